namespace IdentityServer.Hosting;

/// <summary>
/// The issuer when <c>Server:Issuer</c> is not set. Development takes it from the address the server is configured to
/// listen on (so <c>--urls http://localhost:5099</c> alone gives a matching issuer); every other environment requires
/// the setting. Read from configuration at builder time, before anything reads <see cref="ServerOptions"/>.
/// </summary>
public static class IssuerFromAddress
{
    public const string Setting = ServerOptions.Section + ":" + nameof(ServerOptions.Issuer);

    /// <summary>Kestrel's address when nothing is configured.</summary>
    public const string DefaultAddress = "http://localhost:5000";

    public static void Apply(IConfiguration configuration, bool development)
    {
        if (!string.IsNullOrWhiteSpace(configuration[Setting]))
        {
            return;
        }

        if (!development)
        {
            throw new StartupConfigurationException(Setting,
                "the issuer is required outside Development (the server's public https URL, for example https://id.example.com).");
        }

        configuration[Setting] = Derive(configuration);
    }

    /// <summary>
    /// The first http(s) address the server listens on, as Kestrel chooses it: <c>Kestrel:Endpoints</c>, else <c>urls</c>
    /// (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, launchSettings' <c>applicationUrl</c>), else <c>http_ports</c>/<c>https_ports</c>,
    /// else <c>http://localhost:5000</c>. A wildcard host (<c>+</c>, <c>*</c>, <c>0.0.0.0</c>, <c>[::]</c>) becomes <c>localhost</c>.
    /// </summary>
    public static string Derive(IConfiguration configuration)
    {
        var candidates = configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"])
            .Concat((configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Concat(Ports(configuration["http_ports"], "http"))
            .Concat(Ports(configuration["https_ports"], "https"));
        foreach (var candidate in candidates)
        {
            if (candidate is not null && Normalise(candidate) is { } address)
            {
                return address;
            }
        }

        return DefaultAddress;
    }

    private static IEnumerable<string> Ports(string? ports, string scheme) =>
        (ports ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"{scheme}://localhost:{p}");

    private static string? Normalise(string url)
    {
        var separator = url.IndexOf("://", StringComparison.Ordinal);
        if (separator < 0)
        {
            return null;
        }

        var scheme = url[..separator].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            return null;
        }

        var rest = url[(separator + 3)..].TrimEnd('/');
        string host, port;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return null;
            }

            host = rest[..(close + 1)];
            port = rest[(close + 1)..];
        }
        else
        {
            var colon = rest.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? rest : rest[..colon];
            port = colon < 0 ? "" : rest[colon..];
        }

        if (host is "+" or "*" or "0.0.0.0" or "[::]")
        {
            host = "localhost";
        }

        return host.Length == 0 ? null : $"{scheme}://{host}{port}";
    }
}
