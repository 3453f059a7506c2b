using System.Net;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// The authorization endpoint (RFC 6749 §4.1.1-§4.1.2, RFC 7636, RFC 9207, RFC 8707, OpenID Connect Core §3.1.2),
/// driven by a browser session that follows redirects, keeps cookies and fills in forms.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class AuthorizeEndpointTests(SqliteServer server)
{
    private readonly TokenChecks _tokens = new(server);

    public static TheoryData<string> UntrustedRequests() =>
    [
        "unknown client", "disabled client", "unregistered redirect_uri", "redirect_uri with a longer path", "redirect_uri with a query added",
        "redirect_uri with another case", "no redirect_uri with openid", "repeated client_id", "repeated redirect_uri",
    ];

    [Theory]
    [MemberData(nameof(UntrustedRequests))]
    public async Task A_bad_client_or_redirect_uri_shows_an_error_page_and_never_redirects(string kind)
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        var (_, challenge) = TestData.NewPkce();
        var evil = "https://evil.example/callback";
        (string, string?)[] overrides = kind switch
        {
            "unknown client" => [("client_id", "no-such-client-" + Guid.NewGuid().ToString("N"))],
            "disabled client" => [],
            "unregistered redirect_uri" => [("redirect_uri", evil)],
            "redirect_uri with a longer path" => [("redirect_uri", client.RedirectUri + "/evil.example")],
            "redirect_uri with a query added" => [("redirect_uri", client.RedirectUri + "?next=" + evil)],
            "redirect_uri with another case" => [("redirect_uri", client.RedirectUri.ToUpperInvariant())],
            "no redirect_uri with openid" => [("redirect_uri", null)],
            _ => [],
        };
        (string, string)[] extra = kind switch
        {
            "repeated client_id" => [("client_id", client.ClientId)],
            "repeated redirect_uri" => [("redirect_uri", evil)],
            _ => [],
        };
        if (kind == "disabled client")
        {
            await server.WithDatabaseAsync(db => db.Applications.Where(a => a.Id == client.ApplicationId)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Enabled, false)));
            server.Services.GetRequiredService<ClientStore>().Invalidate(client.ClientId);
        }

        // Even a request that would otherwise end in an error redirect (prompt=none, a bad response_type) stays here.
        foreach (var variant in new (string, string?)[][] { [], [("prompt", "none")], [("response_type", "token")] })
        {
            var response = await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [.. overrides, .. variant], extra));
            var text = await AuthorizeRequests.AssertErrorPageAsync(response);
            Assert.DoesNotContain("evil.example", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Plain_OAuth_may_omit_the_redirect_uri_only_when_exactly_one_is_registered()
    {
        var client = await TestData.CreateClientAsync(server);
        var twoUris = await TestData.CreateClientAsync(server, extraRedirectUris: ["https://second.app.example/callback"]);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        var (verifier, challenge) = TestData.NewPkce();

        // RFC 6749 §3.1.2.3: with one registered URI and no openid, the redirect_uri may be left out.
        var response = await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [("redirect_uri", null), ("scope", "profile")]));
        var code = OAuthFlow.CallbackParameters(response, client)["code"];
        var form = new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["code"] = code, ["code_verifier"] = verifier };
        TokenEndpointTests.AssertTokenResponse(await OAuthFlow.PostTokenAsync(browser.Http, client, form), "profile");

        response = await browser.GetAsync(AuthorizeRequests.Url(twoUris, challenge, [("redirect_uri", null), ("scope", "profile")]));
        await AuthorizeRequests.AssertErrorPageAsync(response);
    }

    [Theory]
    [InlineData("no code_challenge")]
    [InlineData("plain method")]
    [InlineData("no method (means plain)")]
    [InlineData("malformed challenge")]
    public async Task PKCE_is_required_with_S256(string kind)
    {
        var client = await TestData.CreateClientAsync(server, confidential: kind.Length % 2 == 0);
        using var browser = new BrowserSession(server);
        var (_, challenge) = TestData.NewPkce();
        (string, string?)[] overrides = kind switch
        {
            "no code_challenge" => [("code_challenge", null), ("code_challenge_method", null)],
            "plain method" => [("code_challenge_method", "plain")],
            "no method (means plain)" => [("code_challenge_method", null)],
            _ => [("code_challenge", challenge[..20])],
        };
        var url = AuthorizeRequests.Url(client, challenge, overrides);

        var response = await browser.GetAsync(url);
        AuthorizeRequests.AssertErrorRedirect(response, client, "invalid_request", AuthorizeRequests.Parameter(url, "state"));
    }

    [Theory]
    [InlineData("unknown scope")]
    [InlineData("standard scope not permitted")]
    [InlineData("API scope not permitted")]
    public async Task Scope_escalation_is_invalid_scope(string kind)
    {
        var apiScope = "api-" + Guid.NewGuid().ToString("N")[..10];
        await TestData.CreateScopeAsync(server, apiScope, $"https://{apiScope}.example/");
        var client = await TestData.CreateClientAsync(server, scopes: ["openid", "profile"]);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        var (_, challenge) = TestData.NewPkce();
        var scope = kind switch
        {
            "unknown scope" => "openid profile admin-" + Guid.NewGuid().ToString("N")[..6],
            "standard scope not permitted" => "openid profile email",
            _ => "openid " + apiScope,
        };
        var url = AuthorizeRequests.Url(client, challenge, [("scope", scope)]);

        var response = await browser.GetAsync(url);
        AuthorizeRequests.AssertErrorRedirect(response, client, "invalid_scope", AuthorizeRequests.Parameter(url, "state"));
    }

    [Theory]
    [InlineData("token", "unsupported_response_type")]
    [InlineData("id_token", "unsupported_response_type")]
    [InlineData("code id_token", "unsupported_response_type")]
    [InlineData(null, "invalid_request")]
    public async Task Only_response_type_code_is_supported(string? responseType, string error)
    {
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("response_type", responseType)]);

        var response = await browser.GetAsync(url);
        AuthorizeRequests.AssertErrorRedirect(response, client, error, AuthorizeRequests.Parameter(url, "state"));
    }

    [Fact]
    public async Task Errors_without_state_carry_no_state_but_still_iss()
    {
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("state", null), ("code_challenge_method", "plain")]);

        AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(url), client, "invalid_request", state: null);
    }

    [Fact]
    public async Task A_repeated_parameter_is_invalid_request_but_resource_may_repeat()
    {
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, null, ("scope", "openid email"));

        // RFC 6749 §3.1: parameters MUST NOT be included more than once.
        AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(url), client, "invalid_request", AuthorizeRequests.Parameter(url, "state"));
    }

    [Fact]
    public async Task Without_a_session_the_person_signs_in_and_comes_back_to_the_request()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("login_hint", user.UserName)]);

        var login = await browser.GetAsync(url);
        Assert.True(AuthorizeRequests.IsLoginPage(login));
        var page = await BrowserSession.ReadPageAsync(login);
        Assert.StartsWith("/connect/authorize?", page.QuerySelector("input[name=ReturnUrl]")!.GetAttribute("value"), StringComparison.Ordinal);
        Assert.Equal(user.UserName, page.QuerySelector("input[name=Username]")!.GetAttribute("value")); // login_hint

        var callback = OAuthFlow.CallbackParameters(await OAuthFlow.SignInAsync(browser, login, user.UserName!), client);
        Assert.Equal(AuthorizeRequests.Parameter(url, "state"), callback["state"]);
        Assert.Equal(ServerFactory.Issuer, callback["iss"]);
        Assert.False(string.IsNullOrEmpty(callback["code"]));
    }

    [Fact]
    public async Task A_stateless_clients_several_kilobyte_state_survives_the_sign_in_but_not_beyond_six_kilobytes()
    {
        // OpenIddict.Client without token storage sends its encrypted state token, about 4 KB (Interop/OpenIddictInteropTests);
        // the 2 KB limit of the other parameters refused it. RFC 6749 §4.1.1 sets no length for state.
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var state = new string('s', 5000);
        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("state", state)]);

        var callback = OAuthFlow.CallbackParameters(await OAuthFlow.SignInAsync(browser, await browser.GetAsync(url), user.UserName!), client);
        Assert.Equal(state, callback["state"]);

        var tooLong = new string('s', 6145);
        var refusedUrl = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("state", tooLong)]);
        var refused = AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(refusedUrl), client, "invalid_request", tooLong);
        Assert.Contains("state parameter is too long", refused["error_description"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    public async Task The_sign_in_page_never_returns_off_site(string returnUrl)
    {
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var login = await browser.GetAsync("/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl));

        var landed = await OAuthFlow.SignInAsync(browser, login, user.UserName!);
        Assert.Equal(HttpStatusCode.OK, landed.StatusCode);
        Assert.Equal("https://localhost/", landed.RequestMessage!.RequestUri!.ToString());
    }

    [Fact]
    public async Task Prompt_none_without_a_session_is_login_required()
    {
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("prompt", "none")]);

        AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(url), client, "login_required", AuthorizeRequests.Parameter(url, "state"));
    }

    [Fact]
    public async Task Prompt_none_when_consent_is_needed_is_consent_required_and_succeeds_once_given()
    {
        var client = await TestData.CreateClientAsync(server, consent: true);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        var (_, challenge) = TestData.NewPkce();
        var url = AuthorizeRequests.Url(client, challenge, [("prompt", "none")]);

        AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(url), client, "consent_required", AuthorizeRequests.Parameter(url, "state"));

        await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, "openid profile");
        var callback = OAuthFlow.CallbackParameters(await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [("prompt", "none")])), client);
        Assert.False(string.IsNullOrEmpty(callback["code"]));
    }

    [Fact]
    public async Task Prompt_none_never_shows_the_sign_in_page_even_when_the_session_user_is_gone()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).ExecuteDeleteAsync());
        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("prompt", "none")]);

        // Core §3.1.2.1: with prompt=none the server MUST NOT display any user interface.
        AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(url), client, "login_required", AuthorizeRequests.Parameter(url, "state"));
        Assert.True(AuthorizeRequests.IsLoginPage(await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge))));
    }

    [Fact]
    public async Task Prompt_login_shows_the_sign_in_page_again_and_auth_time_moves()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var firstAuthTime = await AuthTimeAsync(browser, client, user.UserName!, []);

        server.Time.Advance(TimeSpan.FromSeconds(30));
        var again = await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("prompt", "login")]));
        Assert.True(AuthorizeRequests.IsLoginPage(again), "prompt=login must ask for the credentials again");

        var secondAuthTime = await AuthTimeAsync(browser, client, user.UserName!, [("prompt", "login")]);
        Assert.Equal(firstAuthTime + 30, secondAuthTime);
    }

    [Fact]
    public async Task Max_age_asks_for_a_new_sign_in_only_when_the_session_is_older()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var signedInAt = await AuthTimeAsync(browser, client, user.UserName!, []);

        // Core §3.1.2.1: max_age=0 is the same as prompt=login.
        Assert.True(AuthorizeRequests.IsLoginPage(await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("max_age", "0")]))));

        server.Time.Advance(TimeSpan.FromSeconds(120));
        Assert.Equal(signedInAt, await AuthTimeAsync(browser, client, user.UserName!, [("max_age", "300")]));

        var silent = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("max_age", "60"), ("prompt", "none")]);
        AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(silent), client, "login_required", AuthorizeRequests.Parameter(silent, "state"));
        var tooOld = await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("max_age", "60")]));
        Assert.True(AuthorizeRequests.IsLoginPage(tooOld));
        Assert.Equal(signedInAt + 120, await AuthTimeAsync(browser, client, user.UserName!, [("max_age", "60")]));
    }

    [Fact]
    public async Task Form_post_answers_with_an_auto_submitting_form_under_a_strict_policy()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        var (verifier, challenge) = TestData.NewPkce();
        var state = "<script>alert(1)</script>\"'&";
        var url = AuthorizeRequests.Url(client, challenge, [("response_mode", "form_post"), ("state", state)]);

        var response = await browser.GetAsync(url);
        var (form, fields) = await AuthorizeRequests.ReadFormPostAsync(response);
        Assert.Equal("post", form.Method, ignoreCase: true);
        Assert.Equal(client.RedirectUri, form.GetAttribute("action"));
        Assert.Equal(["code", "iss", "state"], fields.Keys.Order());
        Assert.Equal(state, fields["state"]);
        Assert.Equal(ServerFactory.Issuer, fields["iss"]);
        Assert.DoesNotContain("<script>alert", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var policy = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'sha256-", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());

        TokenEndpointTests.AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, fields["code"], verifier), "openid profile");
    }

    [Fact]
    public async Task Form_post_also_carries_errors_with_state_and_iss()
    {
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("response_mode", "form_post"), ("prompt", "none")]);

        var (form, fields) = await AuthorizeRequests.ReadFormPostAsync(await browser.GetAsync(url));
        Assert.Equal(client.RedirectUri, form.GetAttribute("action"));
        Assert.Equal("login_required", fields["error"]);
        Assert.Equal(AuthorizeRequests.Parameter(url, "state"), fields["state"]);
        Assert.Equal(ServerFactory.Issuer, fields["iss"]);
        Assert.False(fields.ContainsKey("code"));
    }

    [Fact]
    public async Task Fragment_mode_carries_the_code_or_the_error_in_the_fragment_with_state_and_iss()
    {
        // OAuth 2.0 Multiple Response Type Encoding Practices §2.1; single-page apps built on MSAL.js ask for it.
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var refused = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("response_mode", "fragment"), ("prompt", "none")]);
        var error = FragmentOf(await browser.GetAsync(refused), client);
        Assert.Equal("login_required", error["error"]);
        Assert.Equal(AuthorizeRequests.Parameter(refused, "state"), error["state"]);
        Assert.Equal(ServerFactory.Issuer, error["iss"]);

        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        var (verifier, challenge) = TestData.NewPkce();
        var url = AuthorizeRequests.Url(client, challenge, [("response_mode", "fragment"), ("state", "a b&c=d")]);
        var answer = FragmentOf(await browser.GetAsync(url), client);
        Assert.Equal(["code", "iss", "state"], answer.Keys.Order());
        Assert.Equal("a b&c=d", answer["state"]);
        Assert.Equal(ServerFactory.Issuer, answer["iss"]);
        TokenEndpointTests.AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, answer["code"], verifier), "openid profile");
    }

    /// <summary>The parameters of a redirect to the client's URI that carries them in the fragment, and none in the query.</summary>
    private static Dictionary<string, string> FragmentOf(HttpResponseMessage response, TestClient client)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        var hash = location.IndexOf('#', StringComparison.Ordinal);
        Assert.True(hash > 0, location);
        Assert.Equal(client.RedirectUri, location[..hash]);
        return QueryHelpers.ParseQuery(location[(hash + 1)..]).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    [Fact]
    public async Task The_authorization_request_may_be_a_form_POST()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        var (verifier, challenge) = TestData.NewPkce();
        var url = AuthorizeRequests.Url(client, challenge);
        var fields = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(new Uri("https://localhost"), url).Query)
            .Select(p => new KeyValuePair<string, string>(p.Key, p.Value.ToString()));

        var response = await browser.Http.PostAsync(new Uri("/connect/authorize", UriKind.Relative), new FormUrlEncodedContent(fields));
        var callback = OAuthFlow.CallbackParameters(response, client);
        Assert.Equal(AuthorizeRequests.Parameter(url, "state"), callback["state"]);
        TokenEndpointTests.AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier), "openid profile");
    }

    [Fact]
    public async Task A_registered_redirect_uri_keeps_its_own_query()
    {
        var withQuery = $"https://tenant-{Guid.NewGuid():N}.app.example/callback?tenant=7";
        var registered = await TestData.CreateClientAsync(server, extraRedirectUris: [withQuery]);
        var client = registered with { RedirectUri = withQuery };
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);

        // RFC 6749 §3.1.2: the query of the redirection endpoint MUST be retained.
        var callback = OAuthFlow.CallbackParameters(await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge)), client);
        Assert.Equal("7", callback["tenant"]);
        Assert.False(string.IsNullOrEmpty(callback["code"]));
    }

    [Fact]
    public async Task Resource_indicators_select_the_audience_and_an_unknown_resource_is_invalid_target()
    {
        var scopes = new List<string>();
        var resources = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var name = "api-" + Guid.NewGuid().ToString("N")[..10];
            resources.Add($"https://{name}.example/");
            scopes.Add(name);
            await TestData.CreateScopeAsync(server, name, resources[i]);
        }

        var client = await TestData.CreateClientAsync(server, scopes: ["openid", .. scopes]);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        var scope = $"openid {scopes[0]} {scopes[1]} {scopes[2]}";

        // RFC 8707 §2: resource may repeat; the token is for those resource servers (and userinfo, as openid was granted).
        var (verifier, challenge) = TestData.NewPkce();
        var response = await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [("scope", scope)], ("resource", resources[0]), ("resource", resources[1])));
        var code = OAuthFlow.CallbackParameters(response, client)["code"];
        var body = TokenEndpointTests.AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier), scope);
        var access = await _tokens.AccessTokenAsync(body.GetProperty("access_token").GetString()!, resources[0], client.ClientId, user.Id);
        Assert.Equal(new[] { resources[0], resources[1], ServerFactory.Issuer }.Order(), access.Audiences.Order());

        foreach (var bad in new[] { "https://unknown-" + Guid.NewGuid().ToString("N")[..8] + ".example/", resources[0] + "#fragment", "not-a-uri" })
        {
            var url = AuthorizeRequests.Url(client, challenge, [("scope", $"openid {scopes[0]}")], ("resource", bad));
            AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(url), client, "invalid_target", AuthorizeRequests.Parameter(url, "state"));
        }

        // A resource server whose scope was not requested is not available either.
        var other = AuthorizeRequests.Url(client, challenge, [("scope", $"openid {scopes[0]}")], ("resource", resources[2]));
        AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(other), client, "invalid_target", AuthorizeRequests.Parameter(other, "state"));
    }

    /// <summary>Runs one authorization (signing in when asked) and returns the auth_time of the resulting ID token.</summary>
    private async Task<long> AuthTimeAsync(BrowserSession browser, TestClient client, string userName, (string, string?)[] overrides)
    {
        var (verifier, challenge) = TestData.NewPkce();
        var url = AuthorizeRequests.Url(client, challenge, overrides);
        var response = await browser.GetAsync(url);
        if (AuthorizeRequests.IsLoginPage(response))
        {
            response = await OAuthFlow.SignInAsync(browser, response, userName);
        }

        var code = OAuthFlow.CallbackParameters(response, client)["code"];
        var body = TokenEndpointTests.AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier), "openid profile");
        var accessToken = body.GetProperty("access_token").GetString()!;
        var users = await server.WithDatabaseAsync(db => db.Users.Where(u => u.UserName == userName).Select(u => u.Id).SingleAsync());
        var identity = await _tokens.IdentityTokenAsync(body.GetProperty("id_token").GetString()!, client.ClientId,
            AuthorizeRequests.Parameter(url, "nonce"), accessToken, users);
        Assert.True(identity.TryGetPayloadValue<long>("auth_time", out var authTime));
        return authTime;
    }
}
