using System.Net;
using System.Net.Sockets;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// The server on a real Kestrel listener on a loopback port, for browsers and other out-of-process clients (the
/// in-process <see cref="ServerFactory"/> has no socket). Everything else is the usual test host: throwaway SQLite,
/// fake clock (<c>Time</c>), <c>Services</c>, <c>WithDatabaseAsync</c>, <c>TestData</c>. The issuer is the listener's own
/// address (http is accepted on loopback), so discovery, <c>iss</c> and redirects all name a URL the browser can reach,
/// and cookies are not marked Secure. The listener starts on first use of <see cref="RootUri"/> or <c>Services</c>.
/// </summary>
/// <remarks>
/// Subclasses add settings by overriding <see cref="ServerFactory.Settings"/> and merging <c>base.Settings</c>.
/// </remarks>
public class KestrelServer : ServerFactory
{
    private readonly Uri _rootUri;
    private readonly Lock _startLock = new();
    private bool _started;

    public KestrelServer()
        : this("127.0.0.1")
    {
    }

    /// <summary>
    /// The listener under another loopback name: <c>localhost</c> for passkeys, whose relying party id must be a domain
    /// (WebAuthn §5.1.2; a browser refuses an IP address) and whose origin must be a secure context (loopback http is one).
    /// </summary>
    protected KestrelServer(string host)
    {
        var port = FreeLoopbackPort();
        _rootUri = new Uri($"http://{host}:{port}/");
        UseKestrel(options => options.Listen(IPAddress.Loopback, port));
    }

    /// <summary>The server's address, for example http://127.0.0.1:41234/ (starting the server if needed).</summary>
    public Uri RootUri
    {
        get
        {
            EnsureStarted();
            return _rootUri;
        }
    }

    /// <summary>The issuer, as configured: the root URI without its trailing slash.</summary>
    public string IssuerUri => _rootUri.ToString().TrimEnd('/');

    /// <summary>An absolute URL on this server for a path such as <c>/admin</c>.</summary>
    public string Url(string pathAndQuery) => new Uri(RootUri, pathAndQuery).ToString();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Server:Issuer"] = IssuerUri };

    private void EnsureStarted()
    {
        lock (_startLock)
        {
            if (!_started)
            {
                StartServer();
                _started = true;
            }
        }
    }

    internal static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
