using System.Net;
using System.Net.Sockets;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// The server on a real loopback port, for a real browser, with its providers pointed at its own stand-in. The issuer
/// is the server's own http://127.0.0.1:port address (http is accepted for loopback), so cookies are not marked Secure.
/// (A small local host; a shared Infrastructure/KestrelServer did not exist when this was written.)
/// </summary>
public sealed class KestrelFederationServer : ServerFactory
{
    public KestrelFederationServer()
    {
        var port = FreeLoopbackPort();
        RootUri = new Uri($"http://127.0.0.1:{port}");
        UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        StartServer();
    }

    public ProviderStandIn StandIn { get; } = ProviderStandIn.Start();

    public Uri RootUri { get; }

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = StandIn.ServerSettings();
            settings["Server:Issuer"] = RootUri.ToString().TrimEnd('/');
            return settings;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
