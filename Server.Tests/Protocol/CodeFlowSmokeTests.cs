using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Protocol;

public sealed class CodeFlowSmokeTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Confidential_client_gets_tokens_and_a_rotating_refresh_token()
    {
        var client = await TestData.CreateClientAsync(server, consent: true);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();

        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge);
        Assert.Equal("state-123", callback["state"]);
        Assert.Equal(ServerFactory.Issuer, callback["iss"]);

        var (status, body, response) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("id_token").GetString()));
        var refresh = body.GetProperty("refresh_token").GetString()!;

        var (refreshStatus, refreshed, _) = await OAuthFlow.PostTokenAsync(browser.Http, client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh });
        Assert.Equal(HttpStatusCode.OK, refreshStatus);
        Assert.NotEqual(refresh, refreshed.GetProperty("refresh_token").GetString());
    }
}
