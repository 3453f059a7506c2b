using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Protocol;

/// <summary>The userinfo endpoint (OpenID Connect Core §5.3) with bearer tokens (RFC 6750): claims by scope, errors by challenge.</summary>
[Collection(SharedProtocolServer.Name)]
public sealed class UserInfoTests(SqliteServer server)
{
    [Fact]
    public async Task GET_with_a_profile_scope_returns_the_profile_claims_and_no_email()
    {
        var (user, tokens) = await TokensAsync("openid profile");

        var (status, body, _) = await CallAsync(HttpMethod.Get, bearer: tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(user.Id, body.GetProperty("sub").GetString());
        Assert.Equal(user.Name, body.GetProperty("name").GetString());
        Assert.Equal(user.UserName, body.GetProperty("preferred_username").GetString());
        Assert.Equal(JsonValueKind.Number, body.GetProperty("updated_at").ValueKind);
        Assert.False(body.TryGetProperty("email", out _));
        Assert.False(body.TryGetProperty("email_verified", out _));
    }

    [Fact]
    public async Task POST_with_an_email_scope_returns_the_email_claims_and_no_profile()
    {
        var (user, tokens) = await TokensAsync("openid email");

        var (status, body, _) = await CallAsync(HttpMethod.Post, bearer: tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(user.Id, body.GetProperty("sub").GetString());
        Assert.Equal(user.Email, body.GetProperty("email").GetString());
        Assert.True(body.GetProperty("email_verified").GetBoolean());
        Assert.False(body.TryGetProperty("name", out _));
        Assert.False(body.TryGetProperty("preferred_username", out _));
    }

    [Fact]
    public async Task POST_may_carry_the_token_in_the_form_body()
    {
        var (user, tokens) = await TokensAsync("openid profile email");

        // RFC 6750 §2.2.
        var (status, body, _) = await CallAsync(HttpMethod.Post, formToken: tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(user.Id, body.GetProperty("sub").GetString());
        Assert.Equal(user.Email, body.GetProperty("email").GetString());
        Assert.Equal(user.UserName, body.GetProperty("preferred_username").GetString());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task No_token_is_a_bare_Bearer_challenge(string method)
    {
        var (status, _, response) = await CallAsync(new HttpMethod(method));

        // RFC 6750 §3.1: a request without authentication gets the challenge but no error code (and RFC 9449 §7.1 a
        // DPoP challenge beside it, DPoP/DPoPBindingTests).
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate, c => c.Scheme == "Bearer");
        Assert.DoesNotContain("error=", challenge.Parameter ?? "", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("forged payload")]
    [InlineData("id token")]
    [InlineData("expired")]
    public async Task A_bad_or_expired_token_is_401_invalid_token(string kind)
    {
        var (_, tokens) = await TokensAsync("openid profile");
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(HttpMethod.Get, bearer: tokens.AccessToken)).Status);
        var token = tokens.AccessToken;
        switch (kind)
        {
            case "garbage":
                token = "not-a-token";
                break;
            case "forged payload":
                token = Forge(tokens.AccessToken);
                break;
            case "id token":
                token = tokens.IdToken;
                break;
            default:
                server.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
                break;
        }

        var (status, body, response) = await CallAsync(HttpMethod.Get, bearer: token);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"invalid_token\"", challenge.Parameter, StringComparison.Ordinal);
        Assert.False(body.TryGetProperty("sub", out _));
    }

    [Fact]
    public async Task A_token_without_openid_is_403_insufficient_scope()
    {
        var (_, tokens) = await TokensAsync("profile");
        Assert.Empty(tokens.IdToken); // plain OAuth: no ID token without openid

        var (status, _, response) = await CallAsync(HttpMethod.Get, bearer: tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"insufficient_scope\"", challenge.Parameter, StringComparison.Ordinal);
    }

    /// <summary>The same signature over a payload naming someone else: the signature no longer matches.</summary>
    private static string Forge(string jwt)
    {
        var parts = jwt.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
        using var json = JsonDocument.Parse(payload);
        var sub = json.RootElement.GetProperty("sub").GetString()!;
        var forged = payload.Replace(sub, "someone-else", StringComparison.Ordinal);
        return parts[0] + "." + Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(forged)) + "." + parts[2];
    }

    private async Task<(ApplicationUser User, (string AccessToken, string IdToken) Tokens)> TokensAsync(string scope)
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, scope))["code"];
        var body = TokenEndpointTests.AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier), scope);
        var idToken = body.TryGetProperty("id_token", out var id) ? id.GetString()! : "";
        return (user, (body.GetProperty("access_token").GetString()!, idToken));
    }

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> CallAsync(HttpMethod method, string? bearer = null, string? formToken = null)
    {
        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(method, "/connect/userinfo");
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (method == HttpMethod.Post)
        {
            request.Content = new FormUrlEncodedContent(formToken is null ? [] : [new("access_token", formToken)]);
        }

        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }
}
