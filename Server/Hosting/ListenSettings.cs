using Microsoft.AspNetCore.Http;

namespace IdentityServer.Hosting;

/// <summary>
/// The addresses and TLS certificate files Kestrel will use, checked at builder time so that a mistake fails with the
/// name of the setting: Kestrel itself reads them only when it binds, and says "Invalid url: 'x'" or "Could not find
/// file" without saying where the value came from. What only binding shows (a busy port, a certificate that does not
/// parse) is said by <see cref="StartupFailure"/>.
/// </summary>
public static class ListenSettings
{
    /// <param name="contentRoot">Kestrel takes a relative certificate path from the content root.</param>
    public static void Check(IConfiguration configuration, string contentRoot)
    {
        foreach (var url in (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            CheckUrl("urls (--urls or ASPNETCORE_URLS)", url);
        }

        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { } url)
            {
                CheckUrl($"{endpoint.Path}:Url", url);
            }

            CheckCertificateFiles(endpoint.GetSection("Certificate"), contentRoot);
        }

        foreach (var certificate in configuration.GetSection("Kestrel:Certificates").GetChildren())
        {
            CheckCertificateFiles(certificate, contentRoot);
        }
    }

    private static void CheckUrl(string setting, string url)
    {
        try
        {
            // The parser Kestrel binds with.
            BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            throw new StartupConfigurationException(setting,
                $"'{url}' is not an address to listen on; use scheme://host:port, for example http://localhost:5099 or http://0.0.0.0:8080.");
        }
    }

    private static void CheckCertificateFiles(IConfigurationSection certificate, string contentRoot)
    {
        foreach (var key in new[] { "Path", "KeyPath" })
        {
            if (certificate[key] is { Length: > 0 } path && !File.Exists(Path.GetFullPath(path, contentRoot)))
            {
                throw new StartupConfigurationException($"{certificate.Path}:{key}", $"the TLS certificate file '{path}' does not exist.");
            }
        }
    }
}
