using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace IdentityServer.Hosting;

/// <summary>Which reverse proxies may tell us the client's address and scheme (X-Forwarded-For/-Proto).</summary>
public sealed class ProxyOptions
{
    public const string Section = "ForwardedHeaders";

    /// <summary>IP addresses of trusted proxies. None by default, loopback included: a proxy on this machine is listed too.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>CIDR ranges of trusted proxies, e.g. 10.0.0.0/8 for a container network.</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

public static class ProxySetup
{
    /// <summary>
    /// Forwarded headers from configured proxies only, so rate limits, audit entries and session lists see the real client
    /// address and nobody else can choose it. With no proxy configured, X-Forwarded-For and -Proto are ignored from
    /// everyone: ASP.NET Core's own default trusts any loopback sender, and an empty list would trust every sender. The
    /// issuer never comes from the request: it is the configured one, whatever Host or X-Forwarded-Host say.
    /// </summary>
    public static WebApplicationBuilder AddProxySupport(this WebApplicationBuilder builder)
    {
        var proxies = builder.Configuration.BindSetting<ProxyOptions>(ProxyOptions.Section);
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            options.ForwardedHeaders = proxies.KnownProxies.Count + proxies.KnownNetworks.Count == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
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
