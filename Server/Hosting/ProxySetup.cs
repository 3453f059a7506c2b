using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace IdentityServer.Hosting;

/// <summary>Which reverse proxies may tell us the client's address and scheme (X-Forwarded-For/-Proto).</summary>
public sealed class ProxyOptions
{
    public const string Section = "ForwardedHeaders";

    /// <summary>IP addresses of trusted proxies. Loopback is always trusted.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>CIDR ranges of trusted proxies, e.g. 10.0.0.0/8 for a container network.</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

public static class ProxySetup
{
    /// <summary>
    /// Forwarded headers from trusted proxies only, so rate limits and session lists see the real client address. The
    /// issuer never comes from the request: it is the configured one, whatever Host or X-Forwarded-Host say.
    /// </summary>
    public static WebApplicationBuilder AddProxySupport(this WebApplicationBuilder builder)
    {
        var proxies = builder.Configuration.GetSection(ProxyOptions.Section).Get<ProxyOptions>() ?? new ProxyOptions();
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            for (var i = 0; i < proxies.KnownProxies.Count; i++)
            {
                if (!IPAddress.TryParse(proxies.KnownProxies[i], out var address))
                {
                    throw new StartupConfigurationException($"{ProxyOptions.Section}:KnownProxies:{i}", $"'{proxies.KnownProxies[i]}' is not an IP address.");
                }

                options.KnownProxies.Add(address);
            }

            for (var i = 0; i < proxies.KnownNetworks.Count; i++)
            {
                if (!System.Net.IPNetwork.TryParse(proxies.KnownNetworks[i], out var network))
                {
                    throw new StartupConfigurationException($"{ProxyOptions.Section}:KnownNetworks:{i}", $"'{proxies.KnownNetworks[i]}' is not a CIDR range.");
                }

                options.KnownIPNetworks.Add(network);
            }
        });
        return builder;
    }
}
