using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Interop;

/// <summary>The server on a loopback port, requiring DPoP nonces, for the Node.js DPoP client.</summary>
public sealed class DPoPInteropServer : KestrelServer
{
    protected override IDictionary<string, string?> Settings =>
        new Dictionary<string, string?>(base.Settings) { ["DPoP:RequireNonce"] = "true" };
}

/// <summary>
/// DPoP (RFC 9449) with a stock client library that speaks it: panva's openid-client (DPoP through oauth4webapi) makes
/// the proofs, answers the server's nonce challenges, binds the code with dpop_jkt, refreshes with the bound key, calls
/// userinfo with the DPoP scheme, and checks every response as it would for any app (dpop-client.mjs).
/// </summary>
public sealed class DPoPInteropTests(DPoPInteropServer server) : IClassFixture<DPoPInteropServer>
{
    [Fact]
    public async Task A_stock_DPoP_client_gets_bound_tokens_and_uses_them()
    {
        var spa = await TestData.CreateClientAsync(server, confidential: false, scopes: ["openid", "email", "offline_access"]);
        var app = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [], canIntrospect: true);
        var user = await TestData.CreateUserAsync(server);

        var (exitCode, output) = await RelyingPartyScript.RunAsync(new Dictionary<string, string>
        {
            ["ISSUER"] = server.IssuerUri,
            ["PUBLIC_CLIENT_ID"] = spa.ClientId,
            ["PUBLIC_REDIRECT_URI"] = spa.RedirectUri,
            ["CLIENT_ID"] = app.ClientId,
            ["CLIENT_SECRET"] = app.Secret!,
            ["USERNAME"] = user.UserName!,
            ["PASSWORD"] = TestData.Password,
            ["EMAIL"] = user.Email!,
        }, "dpop-client.mjs");

        Assert.True(exitCode == 0, "openid-client DPoP run failed:\n" + output);
        Assert.Contains("dpop interop: all steps passed", output, StringComparison.Ordinal);
    }
}
