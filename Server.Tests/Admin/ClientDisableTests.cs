using System.Net;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Admin;

/// <summary>
/// Disabling a client through the admin API takes effect at once: authorize, token, refresh and introspection all
/// refuse it on the very next request (the client cache is invalidated, not left to expire).
/// </summary>
[Collection(AdminServer.Name)]
public sealed class ClientDisableTests(SqliteServer server)
{
    [Fact]
    public async Task A_disabled_client_can_no_longer_authorize_refresh_or_have_its_tokens_introspected()
    {
        var api = await AdminApi.SharedAsync(server);
        var resource = $"https://rs-{Guid.NewGuid():N}.example";
        var scope = "rs-" + Guid.NewGuid().ToString("N")[..8];
        await TestData.CreateScopeAsync(server, scope, resource);
        var app = await TestData.CreateClientAsync(server, scopes: ["openid", "offline_access", scope]);
        var resourceServer = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [], canIntrospect: true, resource: resource);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, app, user.UserName!, challenge, scope: $"openid offline_access {scope}");
        var (_, tokens, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, app, callback["code"], verifier);
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        var (refreshed, refreshedBody) = await RefreshAsync(app, tokens.GetProperty("refresh_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, refreshed);
        var rotated = refreshedBody.GetProperty("refresh_token").GetString()!;
        Assert.True(await IntrospectAsync(resourceServer, accessToken));

        var disabled = await api.PostAsync($"/admin/api/clients/{app.ClientId}/disable");

        Assert.Equal(HttpStatusCode.OK, disabled.Status);
        Assert.False(disabled.Body.GetProperty("enabled").GetBoolean());
        var (refreshStatus, refreshBody) = await RefreshAsync(app, rotated);
        Assert.Equal(HttpStatusCode.Unauthorized, refreshStatus);
        Assert.Equal("invalid_client", refreshBody.GetProperty("error").GetString());
        Assert.False(await IntrospectAsync(resourceServer, accessToken));
        var authorize = await new BrowserSession(server).GetAsync(OAuthFlow.AuthorizeUrl(app, TestData.NewPkce().Challenge));
        Assert.Equal(HttpStatusCode.BadRequest, authorize.StatusCode); // an error page for the person, never a redirect to the client
        Assert.Contains("disabled", await authorize.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Enabling it again restores it: the person's grant was never revoked.
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/admin/api/clients/{app.ClientId}/enable")).Status);
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(app, rotated)).Status);
        Assert.True(await IntrospectAsync(resourceServer, accessToken));
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync("/admin/api/clients/no-such-client/disable")).Status);
    }

    [Fact]
    public async Task A_disabled_resource_server_cannot_introspect()
    {
        var api = await AdminApi.SharedAsync(server);
        var resourceServer = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [], canIntrospect: true);
        var (status, body, _) = await OAuthFlow.PostTokenAsync(server.CreateClient(), resourceServer, new() { ["grant_type"] = "client_credentials" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(await IntrospectAsync(resourceServer, body.GetProperty("access_token").GetString()!));

        await api.PostAsync($"/admin/api/clients/{resourceServer.ClientId}/disable");

        using var request = IntrospectionRequest(resourceServer, body.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.CreateClient().SendAsync(request)).StatusCode);
        var (tokenStatus, _, _) = await OAuthFlow.PostTokenAsync(server.CreateClient(), resourceServer, new() { ["grant_type"] = "client_credentials" });
        Assert.Equal(HttpStatusCode.Unauthorized, tokenStatus);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> RefreshAsync(TestClient client, string refreshToken)
    {
        var (status, body, _) = await OAuthFlow.PostTokenAsync(server.CreateClient(), client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });
        return (status, body);
    }

    private async Task<bool> IntrospectAsync(TestClient caller, string token)
    {
        using var request = IntrospectionRequest(caller, token);
        var response = await server.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("active").GetBoolean();
    }

    private static HttpRequestMessage IntrospectionRequest(TestClient caller, string token) => new(HttpMethod.Post, "/connect/introspect")
    {
        Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = token,
            ["client_id"] = caller.ClientId,
            ["client_secret"] = caller.Secret!,
        }),
    };
}
