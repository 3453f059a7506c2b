using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Protocol;

/// <summary>grant_type=client_credentials (RFC 6749 §4.4): a confidential client acting for itself, with nothing about a user.</summary>
[Collection(SharedProtocolServer.Name)]
public sealed class ClientCredentialsTests(SqliteServer server)
{
    private readonly TokenChecks _tokens = new(server);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_confidential_client_gets_an_access_token_whose_subject_is_itself(bool basic)
    {
        var (scope, resource) = await ApiScopeAsync();
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [scope]);
        using var http = server.CreateClient();

        var result = await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials", ["scope"] = scope }, basic);
        var body = TokenEndpointTests.AssertTokenResponse(result, scope);

        // §4.4.3: no refresh token; and with no user there is no ID token.
        Assert.False(body.TryGetProperty("refresh_token", out _));
        Assert.False(body.TryGetProperty("id_token", out _));
        var access = await _tokens.AccessTokenAsync(body.GetProperty("access_token").GetString()!, resource, client.ClientId, expectedSubject: client.ClientId);
        Assert.Equal(scope, access.GetClaim("scope").Value);
        Assert.Equal([resource], access.Audiences);
    }

    [Fact]
    public async Task Without_a_scope_the_token_is_for_this_server_only()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var http = server.CreateClient();

        var (status, body, _) = await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials" });
        Assert.Equal(HttpStatusCode.OK, status);
        var accessToken = body.GetProperty("access_token").GetString()!;
        var access = await _tokens.AccessTokenAsync(accessToken, ServerFactory.Issuer, client.ClientId, client.ClientId);
        Assert.Equal([ServerFactory.Issuer], access.Audiences);

        // exp is ten minutes after issue: still valid at 599 s, expired at 601 s.
        server.Time.Advance(TimeSpan.FromSeconds(599));
        Assert.True((await _tokens.TryValidateAsync(accessToken, ServerFactory.Issuer, [TokenChecks.AccessTokenType])).IsValid);
        server.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.False((await _tokens.TryValidateAsync(accessToken, ServerFactory.Issuer, [TokenChecks.AccessTokenType])).IsValid);
    }

    [Fact]
    public async Task A_public_client_is_unauthorized_client_even_when_permitted()
    {
        var client = await TestData.CreateClientAsync(server, confidential: false, grantTypes: ["client_credentials"], scopes: []);
        using var http = server.CreateClient();

        var result = await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials" });
        TokenChecks.AssertTokenError(result, "unauthorized_client");
    }

    [Fact]
    public async Task A_client_not_permitted_the_grant_is_unauthorized_client()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["authorization_code"]);
        using var http = server.CreateClient();

        var result = await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials" });
        TokenChecks.AssertTokenError(result, "unauthorized_client");
    }

    [Fact]
    public async Task A_wrong_secret_is_401_invalid_client()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var http = server.CreateClient();

        var result = await OAuthFlow.PostTokenAsync(http, client with { Secret = "not-the-secret" }, new() { ["grant_type"] = "client_credentials" });
        TokenChecks.AssertTokenError(result, "invalid_client", HttpStatusCode.Unauthorized);
        Assert.Equal("Basic", Assert.Single(result.Response.Headers.WwwAuthenticate).Scheme);
    }

    [Theory]
    [InlineData("openid")]
    [InlineData("offline_access")]
    [InlineData("unknown")]
    [InlineData("not permitted")]
    public async Task Scopes_that_need_a_user_or_are_not_granted_are_invalid_scope(string kind)
    {
        var (scope, _) = await ApiScopeAsync();
        var (otherScope, _) = await ApiScopeAsync();
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [scope, "offline_access"]);
        using var http = server.CreateClient();
        var requested = kind switch
        {
            "unknown" => "nope-" + Guid.NewGuid().ToString("N")[..6],
            "not permitted" => otherScope,
            _ => kind,
        };

        var result = await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials", ["scope"] = $"{scope} {requested}" });
        TokenChecks.AssertTokenError(result, "invalid_scope");
    }

    [Fact]
    public async Task An_unknown_resource_is_invalid_target()
    {
        var (scope, _) = await ApiScopeAsync();
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [scope]);
        using var http = server.CreateClient();

        var result = await OAuthFlow.PostTokenAsync(http, client, new()
        {
            ["grant_type"] = "client_credentials",
            ["scope"] = scope,
            ["resource"] = "https://unknown-" + Guid.NewGuid().ToString("N")[..8] + ".example/",
        });
        TokenChecks.AssertTokenError(result, "invalid_target");
    }

    private async Task<(string Scope, string Resource)> ApiScopeAsync()
    {
        var name = "api-" + Guid.NewGuid().ToString("N")[..10];
        var resource = $"https://{name}.example/";
        await TestData.CreateScopeAsync(server, name, resource);
        return (name, resource);
    }
}
