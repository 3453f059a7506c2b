using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Federation;

/// <summary>The server on a real loopback port (<see cref="KestrelServer"/>), for Chromium, with its providers pointed at its own stand-in.</summary>
public sealed class KestrelFederationServer : KestrelServer
{
    public ProviderStandIn StandIn { get; } = ProviderStandIn.Start();

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>(base.Settings);
            foreach (var (key, value) in StandIn.ServerSettings())
            {
                settings[key] = value;
            }

            return settings;
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            StandIn.Dispose();
        }
    }
}
