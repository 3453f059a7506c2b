using System.Net;
using System.Net.Sockets;

namespace IdentityServer.Hosting;

/// <summary>Settings of the requests the server itself sends to URLs that clients registered (section <c>Outbound</c>).</summary>
public sealed class OutboundOptions
{
    public const string Section = "Outbound";

    /// <summary>
    /// Whether registered URLs may point at this machine (127.0.0.0/8, ::1). Off: only for development, where the app
    /// receiving back-channel logout runs next to the server.
    /// </summary>
    public bool AllowLoopback { get; set; }

    /// <summary>How long one request may take, connection included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most of a response body the server reads.</summary>
    public int MaxResponseBytes { get; set; } = 64 * 1024;
}

/// <summary>
/// Which addresses the server may connect to on a client's behalf (SSRF, OWASP ASVS 12.6.1 and RFC 9700 §4.16 in
/// spirit): public unicast only. Refused: unspecified, loopback (unless allowed), private (RFC 1918), shared (RFC 6598),
/// link-local, unique-local (RFC 4193), site-local, multicast, reserved, documentation and benchmarking ranges, and IPv6
/// forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) when that address is refused.
/// </summary>
public static class OutboundAddressPolicy
{
    private static readonly (IPNetwork Network, bool IsLoopback)[] RefusedV4 =
    [
        (IPNetwork.Parse("0.0.0.0/8"), false),
        (IPNetwork.Parse("10.0.0.0/8"), false),
        (IPNetwork.Parse("100.64.0.0/10"), false),
        (IPNetwork.Parse("127.0.0.0/8"), true),
        (IPNetwork.Parse("169.254.0.0/16"), false),
        (IPNetwork.Parse("172.16.0.0/12"), false),
        (IPNetwork.Parse("192.0.0.0/24"), false),
        (IPNetwork.Parse("192.0.2.0/24"), false),
        (IPNetwork.Parse("192.88.99.0/24"), false),
        (IPNetwork.Parse("192.168.0.0/16"), false),
        (IPNetwork.Parse("198.18.0.0/15"), false),
        (IPNetwork.Parse("198.51.100.0/24"), false),
        (IPNetwork.Parse("203.0.113.0/24"), false),
        (IPNetwork.Parse("224.0.0.0/4"), false),
        (IPNetwork.Parse("240.0.0.0/4"), false),
    ];

    private static readonly IPNetwork[] RefusedV6 =
    [
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("100::/64"),
        IPNetwork.Parse("2001::/32"),
        IPNetwork.Parse("2001:db8::/32"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"),
        IPNetwork.Parse("ff00::/8"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork Compatible = IPNetwork.Parse("::/96");

    /// <summary>Whether the server may connect to <paramref name="address"/>.</summary>
    public static bool IsAllowed(IPAddress address, bool allowLoopback)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            foreach (var (network, isLoopback) in RefusedV4)
            {
                if (network.Contains(address))
                {
                    return isLoopback && allowLoopback;
                }
            }

            return !address.Equals(IPAddress.Broadcast);
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        if (address.Equals(IPAddress.IPv6Loopback))
        {
            return allowLoopback;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return IsAllowed(address.MapToIPv4(), allowLoopback);
        }

        // IPv6 forms that embed an IPv4 address reach that address: judge it instead.
        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address) || (Compatible.Contains(address) && !address.Equals(IPAddress.IPv6Any)))
        {
            return IsAllowed(new IPAddress(bytes.AsSpan(12, 4)), allowLoopback);
        }

        if (SixToFour.Contains(address))
        {
            return IsAllowed(new IPAddress(bytes.AsSpan(2, 4)), allowLoopback);
        }

        return !RefusedV6.Any(network => network.Contains(address));
    }

    /// <summary>
    /// Why a URL the server will fetch is refused at registration, or null. A literal address is judged as is; a host
    /// name that resolves now is judged by every address it resolves to (it is checked again at every connection, since
    /// DNS can change), and names that only ever mean this machine or the local network are refused outright.
    /// </summary>
    public static async Task<string?> CheckAsync(Uri uri, bool allowLoopback, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var host = uri.IdnHost.TrimStart('[').TrimEnd(']');
        if (IPAddress.TryParse(host, out var literal))
        {
            return IsAllowed(literal, allowLoopback) ? null : $"{uri.Host} is not a public address.";
        }

        var name = host.TrimEnd('.').ToLowerInvariant();
        var localOnly = name is "localhost" || name.EndsWith(".localhost", StringComparison.Ordinal);
        if (localOnly)
        {
            return allowLoopback ? null : $"{uri.Host} names this machine.";
        }

        if (name.EndsWith(".local", StringComparison.Ordinal) || name.EndsWith(".internal", StringComparison.Ordinal) || !name.Contains('.', StringComparison.Ordinal))
        {
            return $"{uri.Host} is not a public host name.";
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(name, cancellationToken);
        }
        catch (SocketException)
        {
            return null; // not resolvable now: judged at connection time
        }

        return addresses.All(a => IsAllowed(a, allowLoopback)) ? null : $"{uri.Host} resolves to an address that is not public.";
    }
}

/// <summary>
/// The one HTTP client for URLs that clients registered (back-channel logout today; client JWKS and push receivers
/// later). It resolves the host itself and connects only to an address <see cref="OutboundAddressPolicy"/> allows, so a
/// name that resolved to a public address at registration cannot be pointed at an internal one later (DNS rebinding);
/// it follows no redirect, uses no proxy, gives up after <see cref="OutboundOptions.Timeout"/>, and reads at most
/// <see cref="OutboundOptions.MaxResponseBytes"/> of a response.
/// </summary>
public static class OutboundHttp
{
    public const string ClientName = "outbound";

    public static IServiceCollection AddOutboundHttp(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSetting<OutboundOptions>(OutboundOptions.Section);
        if (options.Timeout <= TimeSpan.Zero)
        {
            throw new StartupConfigurationException($"{OutboundOptions.Section}:{nameof(OutboundOptions.Timeout)}", $"{options.Timeout:c} is not a positive time span.");
        }

        services.AddSingleton(options);
        services.AddHttpClient(ClientName, client =>
            {
                client.Timeout = options.Timeout;
                client.MaxResponseContentBufferSize = options.MaxResponseBytes;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                ConnectTimeout = options.Timeout,
                MaxResponseHeadersLength = 16,
                ConnectCallback = (context, cancellationToken) => ConnectAsync(context, options.AllowLoopback, cancellationToken),
            });
        return services;
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowLoopback, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        var allowed = addresses.Where(a => OutboundAddressPolicy.IsAllowed(a, allowLoopback)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"{endpoint.Host} has no public address; the server does not connect to it.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // The checked addresses themselves, never the name again: what was judged is what is connected to.
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
