using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Accounts;

/// <summary>The in-process server sending account email to a <see cref="MailCatcher"/> on loopback.</summary>
public class EmailServer : ServerFactory
{
    public MailCatcher Mail { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(Mail.Settings);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Mail.Dispose();
        }
    }
}

/// <summary>The same, with links that expire after two seconds (Identity's token provider reads the system clock, not the test's).</summary>
public sealed class ShortLinkEmailServer : EmailServer
{
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromSeconds(2);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Accounts:EmailLinkLifetime"] = LinkLifetime.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>The server on a real listener sending to a <see cref="MailCatcher"/>, for the browser tests.</summary>
public sealed class KestrelEmailServer : KestrelServer
{
    public MailCatcher Mail { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings.Concat(Mail.Settings));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Mail.Dispose();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class EmailHost : ICollectionFixture<EmailServer>
{
    public const string Name = "Email host";
}
