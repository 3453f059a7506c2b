using System.Net;
using System.Text;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// The token endpoint with grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID Connect Core §3.1.3),
/// driven through a real sign-in in a browser session; tokens are checked through discovery + JWKS.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class TokenEndpointTests(SqliteServer server)
{
    private readonly TokenChecks _tokens = new(server);

    [Fact]
    public async Task Public_client_completes_the_flow_and_its_tokens_validate_through_discovery()
    {
        var client = await TestData.CreateClientAsync(server, confidential: false);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var nonce = "n-" + Guid.NewGuid().ToString("N");

        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, "openid profile email offline_access", nonce);
        Assert.Equal("state-123", callback["state"]);
        Assert.Equal(ServerFactory.Issuer, callback["iss"]);

        // A public client sends only its client_id (RFC 6749 §3.2.1), no Authorization header.
        var result = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Null(result.Response.RequestMessage!.Headers.Authorization);
        var body = AssertTokenResponse(result, "openid profile email offline_access");
        Assert.False(string.IsNullOrEmpty(body.GetProperty("refresh_token").GetString()));

        var accessToken = body.GetProperty("access_token").GetString()!;
        var idToken = body.GetProperty("id_token").GetString()!;
        var access = await _tokens.AccessTokenAsync(accessToken, ServerFactory.Issuer, client.ClientId, user.Id);
        Assert.Equal("openid profile email offline_access".Split(' ').Order(), access.GetClaim("scope").Value.Split(' ').Order());
        Assert.Equal(600, access.ValidTo.Subtract(access.IssuedAt).TotalSeconds);

        var identity = await _tokens.IdentityTokenAsync(idToken, client.ClientId, nonce, accessToken, user.Id);
        Assert.Equal(user.Email, identity.GetClaim("email").Value);
        Assert.Equal(user.UserName, identity.GetClaim("preferred_username").Value);

        // RFC 9068 §2.1: typ is "at+jwt" in the header as written, not the JSON escape at\u002Bjwt.
        Assert.Contains("\"typ\":\"at+jwt\"", Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(accessToken.Split('.')[0])));

        // RFC 9068 §4: an ID token must not pass as an access token.
        Assert.False((await _tokens.TryValidateAsync(idToken, client.ClientId, [TokenChecks.AccessTokenType])).IsValid);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Confidential_client_completes_the_flow_with_client_secret_basic_or_post(bool basic)
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();

        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, "openid email");
        var result = await OAuthFlow.PostTokenAsync(browser.Http, client, Redemption(client, callback["code"], verifier), basic);

        var sent = result.Response.RequestMessage!;
        Assert.Equal(basic ? "Basic" : null, sent.Headers.Authorization?.Scheme);
        var body = AssertTokenResponse(result, "openid email");
        Assert.False(body.TryGetProperty("refresh_token", out _)); // no offline_access asked
        var accessToken = body.GetProperty("access_token").GetString()!;
        await _tokens.AccessTokenAsync(accessToken, ServerFactory.Issuer, client.ClientId, user.Id);
        var identity = await _tokens.IdentityTokenAsync(body.GetProperty("id_token").GetString()!, client.ClientId, "nonce-456", accessToken, user.Id);
        Assert.False(identity.TryGetPayloadValue<string>("name", out _)); // profile was not granted
    }

    [Theory]
    [InlineData("wrong")]
    [InlineData("missing")]
    [InlineData("challenge")]
    public async Task A_code_verifier_that_does_not_match_the_challenge_is_invalid_grant(string kind)
    {
        var (client, browser, code, verifier) = await CodeAsync();
        using var _ = browser;
        var form = Redemption(client, code, verifier);
        switch (kind)
        {
            case "wrong":
                form["code_verifier"] = TestData.NewPkce().Verifier;
                break;
            case "missing":
                form.Remove("code_verifier");
                break;
            default:
                // Sending the challenge itself is what a "plain" downgrade would do (RFC 7636 §4.3: S256 only here).
                form["code_verifier"] = Challenge(verifier);
                break;
        }

        TokenChecks.AssertTokenError(await OAuthFlow.PostTokenAsync(browser.Http, client, form), "invalid_grant");
    }

    [Fact]
    public async Task A_replayed_code_is_refused_and_what_its_first_redemption_issued_is_revoked()
    {
        var (scope, resource) = await ApiScopeAsync();
        var resourceServer = await TestData.CreateClientAsync(server, grantTypes: [], scopes: [], canIntrospect: true, resource: resource);
        var client = await TestData.CreateClientAsync(server, scopes: ["openid", "offline_access", scope]);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, $"openid offline_access {scope}"))["code"];

        var first = AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier), $"openid offline_access {scope}");
        var accessToken = first.GetProperty("access_token").GetString()!;
        var refreshToken = first.GetProperty("refresh_token").GetString()!;
        await _tokens.AccessTokenAsync(accessToken, resource, client.ClientId, user.Id);
        Assert.True(await TokenChecks.IsActiveAsync(browser.Http, resourceServer, accessToken));

        var replay = await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier);
        TokenChecks.AssertTokenError(replay, "invalid_grant");

        // RFC 6749 §4.1.2: the tokens issued from the code are revoked.
        var refresh = await OAuthFlow.PostTokenAsync(browser.Http, client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });
        TokenChecks.AssertTokenError(refresh, "invalid_grant");
        Assert.False(await TokenChecks.IsActiveAsync(browser.Http, resourceServer, accessToken));
        using var userInfo = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        userInfo.Headers.Authorization = new("Bearer", accessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.Http.SendAsync(userInfo)).StatusCode);
    }

    [Fact]
    public async Task A_code_presented_by_another_client_is_invalid_grant()
    {
        var (client, browser, code, verifier) = await CodeAsync();
        using var _ = browser;
        var other = await TestData.CreateClientAsync(server);

        // Everything right except the authenticated client (§4.1.3: the code is bound to the client it was issued to).
        var stolen = await OAuthFlow.PostTokenAsync(browser.Http, other, Redemption(client, code, verifier));
        TokenChecks.AssertTokenError(stolen, "invalid_grant");

        AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier), "openid profile");
    }

    [Fact]
    public async Task A_code_lives_60_seconds()
    {
        var (client, browser, code, verifier) = await CodeAsync();
        using var _ = browser;
        var (secondVerifier, secondChallenge) = TestData.NewPkce();
        var second = (await OAuthFlow.AuthorizeAsync(browser, client, "", secondChallenge, "openid profile"))["code"];

        server.Time.Advance(TimeSpan.FromSeconds(59));
        AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier), "openid profile");

        server.Time.Advance(TimeSpan.FromSeconds(2));
        TokenChecks.AssertTokenError(await OAuthFlow.RedeemCodeAsync(browser.Http, client, second, secondVerifier), "invalid_grant");
    }

    [Fact]
    public async Task The_redirect_uri_must_repeat_the_one_of_the_authorization_request()
    {
        var other = "https://other-" + Guid.NewGuid().ToString("N")[..8] + ".app.example/callback";
        var client = await TestData.CreateClientAsync(server, extraRedirectUris: [other]);
        var (_, browser, code, verifier) = await CodeAsync(client);
        using var _ = browser;

        var form = Redemption(client, code, verifier);
        form["redirect_uri"] = other; // registered, but not the one the code was issued for
        TokenChecks.AssertTokenError(await OAuthFlow.PostTokenAsync(browser.Http, client, form), "invalid_grant");
        form.Remove("redirect_uri"); // §4.1.3: REQUIRED when it was in the authorization request
        TokenChecks.AssertTokenError(await OAuthFlow.PostTokenAsync(browser.Http, client, form), "invalid_grant");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_wrong_client_secret_is_401_invalid_client(bool basic)
    {
        var (client, browser, code, verifier) = await CodeAsync();
        using var _ = browser;
        var impostor = client with { Secret = ClientSecrets.Generate() };

        var result = await OAuthFlow.PostTokenAsync(browser.Http, impostor, Redemption(client, code, verifier), basic);
        TokenChecks.AssertTokenError(result, "invalid_client", HttpStatusCode.Unauthorized);
        if (basic)
        {
            // §5.2: an attempt through the Authorization header gets a challenge for that scheme.
            Assert.Equal("Basic", Assert.Single(result.Response.Headers.WwwAuthenticate).Scheme);
        }

        // The code was not touched: the real client still redeems it.
        AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier), "openid profile");
    }

    [Fact]
    public async Task A_confidential_client_without_credentials_or_an_unknown_client_is_401_invalid_client()
    {
        var (client, browser, code, verifier) = await CodeAsync();
        using var _ = browser;

        var anonymous = client with { Secret = null };
        TokenChecks.AssertTokenError(await OAuthFlow.PostTokenAsync(browser.Http, anonymous, Redemption(client, code, verifier)),
            "invalid_client", HttpStatusCode.Unauthorized);
        var unknown = client with { ClientId = "no-such-client-" + Guid.NewGuid().ToString("N") };
        TokenChecks.AssertTokenError(await OAuthFlow.PostTokenAsync(browser.Http, unknown, Redemption(client, code, verifier)),
            "invalid_client", HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_resource_parameter_selects_the_audience_and_an_unknown_one_is_invalid_target()
    {
        var (scopeA, resourceA) = await ApiScopeAsync();
        var (scopeB, resourceB) = await ApiScopeAsync();
        var client = await TestData.CreateClientAsync(server, scopes: ["openid", scopeA, scopeB]);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var scope = $"openid {scopeA} {scopeB}";

        // RFC 8707 §2.2: at the token endpoint, resource narrows the audience of this access token.
        var (verifier, challenge) = TestData.NewPkce();
        var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, scope))["code"];
        var form = Redemption(client, code, verifier);
        form["resource"] = resourceA;
        var body = AssertTokenResponse(await OAuthFlow.PostTokenAsync(browser.Http, client, form), scope);
        var access = await _tokens.AccessTokenAsync(body.GetProperty("access_token").GetString()!, resourceA, client.ClientId, user.Id);
        Assert.DoesNotContain(resourceB, access.Audiences);

        // Without resource, the token is for every resource server of the granted scopes.
        (verifier, challenge) = TestData.NewPkce();
        code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, scope))["code"];
        body = AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier), scope);
        access = await _tokens.AccessTokenAsync(body.GetProperty("access_token").GetString()!, resourceB, client.ClientId, user.Id);
        Assert.Contains(resourceA, access.Audiences);

        (verifier, challenge) = TestData.NewPkce();
        code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, scope))["code"];
        form = Redemption(client, code, verifier);
        form["resource"] = "https://unknown-" + Guid.NewGuid().ToString("N")[..8] + ".example/";
        TokenChecks.AssertTokenError(await OAuthFlow.PostTokenAsync(browser.Http, client, form), "invalid_target");
    }

    [Fact]
    public async Task A_resource_outside_those_of_the_authorization_request_is_invalid_target()
    {
        var (scopeA, resourceA) = await ApiScopeAsync();
        var (scopeB, resourceB) = await ApiScopeAsync();
        var client = await TestData.CreateClientAsync(server, scopes: ["openid", scopeA, scopeB]);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, $"openid {scopeA} {scopeB}", extra: ("resource", resourceA)))["code"];

        var form = Redemption(client, code, verifier);
        form["resource"] = resourceB;
        TokenChecks.AssertTokenError(await OAuthFlow.PostTokenAsync(browser.Http, client, form), "invalid_target");
    }

    [Fact]
    public async Task A_repeated_parameter_is_invalid_request()
    {
        var (client, browser, code, verifier) = await CodeAsync();
        using var _ = browser;
        var fields = Redemption(client, code, verifier).ToList();
        fields.Add(new("code", code));

        var result = await PostRawAsync(browser.Http, client, new FormUrlEncodedContent(fields));
        TokenChecks.AssertTokenError(result, "invalid_request");
        AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier), "openid profile");
    }

    [Theory]
    [InlineData("no grant_type", "invalid_request")]
    [InlineData("password grant", "unsupported_grant_type")]
    [InlineData("no code", "invalid_request")]
    [InlineData("unknown code", "invalid_grant")]
    [InlineData("JSON body", "invalid_request")]
    public async Task Errors_are_RFC_6749_JSON_and_never_cached(string kind, string error)
    {
        var client = await TestData.CreateClientAsync(server);
        using var http = server.CreateClient();
        HttpContent content = kind switch
        {
            "no grant_type" => new FormUrlEncodedContent([new("code", "x")]),
            "password grant" => new FormUrlEncodedContent([new("grant_type", "password"), new("username", "a"), new("password", "b")]),
            "no code" => new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code_verifier", TestData.NewPkce().Verifier)]),
            "unknown code" => new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", TestData.NewPkce().Verifier[..43]),
                new("redirect_uri", client.RedirectUri), new("code_verifier", TestData.NewPkce().Verifier)]),
            _ => new StringContent("{\"grant_type\":\"authorization_code\"}", Encoding.UTF8, "application/json"),
        };

        TokenChecks.AssertTokenError(await PostRawAsync(http, client, content), error);
    }

    /// <summary>RFC 6749 §5.1: a successful response, never cached, with the scope granted.</summary>
    internal static JsonElement AssertTokenResponse((HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response) result, string scope)
    {
        Assert.True(result.Status == HttpStatusCode.OK, $"Expected 200, got {(int)result.Status}: {result.Body}");
        Assert.Equal("application/json", result.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", result.Response.Headers.CacheControl?.ToString());
        var body = result.Body;
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal(600, body.GetProperty("expires_in").GetInt32());
        Assert.Equal(scope.Split(' ').Order(), body.GetProperty("scope").GetString()!.Split(' ').Order());
        return body;
    }

    private async Task<(TestClient Client, BrowserSession Browser, string Code, string Verifier)> CodeAsync(TestClient? client = null)
    {
        client ??= await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, "openid profile");
        return (client, browser, callback["code"], verifier);
    }

    private async Task<(string Scope, string Resource)> ApiScopeAsync()
    {
        var name = "api-" + Guid.NewGuid().ToString("N")[..10];
        var resource = $"https://{name}.example/";
        await TestData.CreateScopeAsync(server, name, resource);
        return (name, resource);
    }

    private static Dictionary<string, string> Redemption(TestClient client, string code, string verifier) => new()
    {
        ["grant_type"] = "authorization_code",
        ["code"] = code,
        ["redirect_uri"] = client.RedirectUri,
        ["code_verifier"] = verifier,
    };

    private static string Challenge(string verifier) =>
        Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    private static async Task<(HttpStatusCode, JsonElement, HttpResponseMessage)> PostRawAsync(HttpClient http, TestClient client, HttpContent content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = content };
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            Uri.EscapeDataString(client.ClientId) + ":" + Uri.EscapeDataString(client.Secret!))));
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }
}
