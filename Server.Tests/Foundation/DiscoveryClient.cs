using IdentityServer.Tests.Infrastructure;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// Microsoft.IdentityModel's own discovery client, pointed at the in-process server: it fetches the discovery document
/// at the issuer and then the JWKS from the <c>jwks_uri</c> it finds there, both through the test server's handler.
/// </summary>
internal static class DiscoveryClient
{
    public static ConfigurationManager<OpenIdConnectConfiguration> For(HttpClient client) =>
        new($"{ServerFactory.Issuer}/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(client) { RequireHttps = true });

    public static async Task<OpenIdConnectConfiguration> FetchAsync(ServerFactory server)
    {
        using var client = server.CreateClient();
        return await For(client).GetConfigurationAsync(CancellationToken.None);
    }
}
