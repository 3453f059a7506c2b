using System.Net;
using MimeKit;

namespace IdentityServer.Hosting.Email;

/// <summary>How the connection to the SMTP server is protected.</summary>
public enum SmtpSecurity
{
    /// <summary>Plain SMTP (only for a relay on this machine or a trusted network; refused with credentials off loopback).</summary>
    None,

    /// <summary>Plain connection upgraded with STARTTLS, which the server must offer (submission, port 587).</summary>
    StartTls,

    /// <summary>TLS from the first byte (implicit TLS, port 465).</summary>
    SslOnConnect,
}

/// <summary>
/// The SMTP server the server sends account email through (section <c>Email</c>). Without <see cref="Host"/> nothing
/// is sent, and the features that need email are off (docs/operations.md, "Email").
/// </summary>
public sealed class EmailOptions
{
    public const string Section = "Email";

    /// <summary>The SMTP server's host name; unset, the server sends no email.</summary>
    public string? Host { get; set; }

    /// <summary>The port; unset, 587 for StartTls, 465 for SslOnConnect, 25 for None.</summary>
    public int? Port { get; set; }

    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>The SMTP login, with <see cref="Password"/>; both unset, the server does not authenticate.</summary>
    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender's address (required with <see cref="Host"/>).</summary>
    public string? From { get; set; }

    /// <summary>The sender's display name, for example "Example sign-in".</summary>
    public string? FromName { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);

    public int EffectivePort => Port ?? Security switch
    {
        SmtpSecurity.SslOnConnect => 465,
        SmtpSecurity.None => 25,
        _ => 587,
    };

    /// <summary>Reads and checks the section: a half-configured sender stops startup with one line naming the setting.</summary>
    public static EmailOptions Read(IConfiguration configuration)
    {
        var options = configuration.BindSetting<EmailOptions>(Section);
        if (!options.Enabled)
        {
            var given = configuration.GetSection(Section).GetChildren().FirstOrDefault(c => !string.IsNullOrEmpty(c.Value));
            if (given is not null)
            {
                throw new StartupConfigurationException($"{Section}:{nameof(Host)}",
                    $"required when other {Section} settings are given ({given.Path} is set); set it to the SMTP server, or remove the {Section} section to send no email.");
            }

            return options;
        }

        if (options.Port is < 1 or > 65535)
        {
            throw new StartupConfigurationException($"{Section}:{nameof(Port)}", $"{options.Port} is not a TCP port (1-65535).");
        }

        if (string.IsNullOrWhiteSpace(options.From))
        {
            throw new StartupConfigurationException($"{Section}:{nameof(From)}", "required with Email:Host: the address account email is sent from.");
        }

        if (!IsPlainAddress(options.From))
        {
            throw new StartupConfigurationException($"{Section}:{nameof(From)}", $"'{options.From}' is not an email address (name@example.com; the display name goes in Email:FromName).");
        }

        var hasUser = !string.IsNullOrEmpty(options.UserName);
        var hasPassword = !string.IsNullOrEmpty(options.Password);
        if (hasUser != hasPassword)
        {
            throw new StartupConfigurationException($"{Section}:{(hasUser ? nameof(Password) : nameof(UserName))}",
                "Email:UserName and Email:Password go together: set both to authenticate, or neither.");
        }

        if (hasUser && options.Security == SmtpSecurity.None && !IsLoopback(options.Host!))
        {
            throw new StartupConfigurationException($"{Section}:{nameof(Security)}",
                "None would send the SMTP password unencrypted to another machine; use StartTls or SslOnConnect.");
        }

        return options;
    }

    /// <summary>Exactly one address and nothing else (no display name, no list).</summary>
    public static bool IsPlainAddress(string? address) =>
        address is not null && MailboxAddress.TryParse(address, out var mailbox) && mailbox.Address == address && string.IsNullOrEmpty(mailbox.Name);

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
