using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Interop;

/// <summary>The server on a real loopback port for the Node.js relying party.</summary>
public sealed class InteropServer : KestrelServer;

/// <summary>
/// Our own tests could agree with our own misreading of a spec. Here a stock, OpenID-certified client library (panva's
/// openid-client, with jose as the resource server) drives the server through discovery, the code flow with PKCE for a
/// confidential and a public client, userinfo, offline JWT validation, introspection, refresh rotation with reuse
/// detection, revocation, pushed authorization requests with private_key_jwt, and RP-initiated logout; the library checks
/// every response the way it would for any app.
/// </summary>
public sealed class OpenIdClientInteropTests(InteropServer server) : IClassFixture<InteropServer>
{
    private const string Resource = "https://api.interop.example";

    [Fact]
    public async Task A_stock_relying_party_completes_every_flow()
    {
        await TestData.CreateScopeAsync(server, "api", Resource);
        const string signedOut = "https://interop-app.example/signed-out";
        var app = await TestData.CreateClientAsync(server, scopes: ["openid", "profile", "email", "offline_access", "api"],
            resources: [Resource], postLogoutRedirectUris: [signedOut]);
        var spa = await TestData.CreateClientAsync(server, confidential: false, scopes: ["openid", "email", "api"], resources: [Resource]);
        var resourceServer = await TestData.CreateClientAsync(server, grantTypes: [], scopes: [], canIntrospect: true, resource: Resource);
        // PAR (RFC 9126) required, and private_key_jwt (RFC 7523) with an ES256 key the script signs with.
        var keys = ClientKeys.EcP256();
        var keySettings = keys.InlineSettings();
        keySettings.RequirePushedAuthorizationRequests = true;
        var keyApp = await TestData.CreateClientAsync(server, scopes: ["openid", "email", "api"], resources: [Resource], settings: keySettings);
        var user = await TestData.CreateUserAsync(server);

        var (exitCode, output) = await RelyingPartyScript.RunAsync(new Dictionary<string, string>
        {
            ["ISSUER"] = server.IssuerUri,
            ["RESOURCE"] = Resource,
            ["CLIENT_ID"] = app.ClientId,
            ["CLIENT_SECRET"] = app.Secret!,
            ["REDIRECT_URI"] = app.RedirectUri,
            ["POST_LOGOUT_REDIRECT_URI"] = signedOut,
            ["PUBLIC_CLIENT_ID"] = spa.ClientId,
            ["PUBLIC_REDIRECT_URI"] = spa.RedirectUri,
            ["RESOURCE_SERVER_ID"] = resourceServer.ClientId,
            ["RESOURCE_SERVER_SECRET"] = resourceServer.Secret!,
            ["USERNAME"] = user.UserName!,
            ["PASSWORD"] = TestData.Password,
            ["EMAIL"] = user.Email!,
            ["KEY_CLIENT_ID"] = keyApp.ClientId,
            ["KEY_CLIENT_REDIRECT_URI"] = keyApp.RedirectUri,
            ["KEY_CLIENT_PRIVATE_JWK"] = keys.PrivateJwk!,
        });

        Assert.True(exitCode == 0, "openid-client run failed:\n" + output);
        Assert.Contains("interop: all steps passed", output, StringComparison.Ordinal);
    }
}
