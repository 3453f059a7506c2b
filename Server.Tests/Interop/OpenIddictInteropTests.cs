using System.Net;
using System.Text.RegularExpressions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Playwright;

namespace IdentityServer.Tests.Interop;

/// <summary>
/// OpenIddict, the .NET stack's own OpenID Connect library, as a client of this server: an OpenIddict.Client web app
/// signs a person in through Chromium (code flow with PKCE, ID token and userinfo validation), refreshes, and signs out
/// through RP-initiated logout; OpenIddict.Validation APIs, told only our issuer, accept our RFC 9068 access tokens
/// offline (discovery and JWKS) and through introspection (RFC 7662), and check their audience. Whatever OpenIddict
/// refuses is ours to fix unless a spec says otherwise.
/// </summary>
public sealed class OpenIddictInteropTests(InteropServer server) : IClassFixture<InteropServer>
{
    [Fact]
    public async Task An_OpenIddict_web_app_signs_in_refreshes_and_signs_out_through_a_browser()
    {
        var (scope, resource) = await NewApiAsync();
        var origin = OpenIddictRelyingParty.NewOrigin();
        string[] scopes = ["openid", "profile", "email", "offline_access", scope];
        var client = await TestData.CreateClientAsync(server, scopes: scopes, resources: [resource],
            extraRedirectUris: [origin + OpenIddictRelyingParty.CallbackPath], postLogoutRedirectUris: [origin + OpenIddictRelyingParty.SignedOutPath]);
        var user = await TestData.CreateUserAsync(server);
        await using var app = await OpenIddictRelyingParty.StartAsync(origin, server, client, scopes);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var frontChannel = new List<Uri>(); // what the app sent the browser to on the server
        page.Request += (_, request) =>
        {
            if (request.IsNavigationRequest && request.Url.StartsWith(server.IssuerUri + "/connect/", StringComparison.Ordinal))
            {
                frontChannel.Add(new Uri(request.Url));
            }
        };

        // Sign-in: the app's challenge sends the browser to /connect/authorize, the server to its sign-in page, and back.
        await page.GotoAsync(origin + "/login");
        await page.GetByLabel("Username or email").FillAsync(user.UserName!);
        await page.GetByLabel("Password").FillAsync(TestData.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await ExpectOutcomeAsync(page, app, "signed-in");

        // OpenIddict found pushed_authorization_request_endpoint in our discovery document and pushed its request (RFC 9126,
        // with PKCE: the server refuses a push without S256), so the browser carried only client_id and request_uri; then
        // it redeemed the code and fetched userinfo.
        var authorize = QueryHelpers.ParseQuery(frontChannel.First(u => u.AbsolutePath == "/connect/authorize").Query);
        Assert.Equal(["client_id", "request_uri"], authorize.Keys.Order(StringComparer.Ordinal));
        Assert.StartsWith("urn:ietf:params:oauth:request_uri:", authorize["request_uri"].ToString(), StringComparison.Ordinal);
        Assert.Equal(["GET /.well-known/openid-configuration", "GET /.well-known/jwks", "POST /connect/par", "POST /connect/token", "GET /connect/userinfo"],
            app.BackchannelRequests.Distinct());
        var signIn = app.SignIn!;
        Assert.Equal(user.Id, signIn.Principal.FindFirst("sub")?.Value);
        Assert.Equal(user.Email, signIn.Principal.FindFirst("email")?.Value);
        Assert.Equal(user.Name, signIn.Principal.FindFirst("name")?.Value);
        Assert.NotNull(signIn.RefreshToken);
        var accessToken = new JsonWebToken(signIn.AccessToken);
        Assert.Equal("at+jwt", accessToken.Typ);
        Assert.Contains(resource, accessToken.Audiences);

        // Refresh, by OpenIddict's back-channel service: a new access token, a rotated refresh token, the same person.
        var refreshed = await app.Service.AuthenticateWithRefreshTokenAsync(new() { RefreshToken = signIn.RefreshToken });
        Assert.NotEqual(signIn.AccessToken, refreshed.AccessToken);
        Assert.NotNull(refreshed.RefreshToken);
        Assert.NotEqual(signIn.RefreshToken, refreshed.RefreshToken);
        Assert.Equal(user.Id, refreshed.Principal.FindFirst("sub")?.Value);
        Assert.Equal(user.Id, refreshed.IdentityTokenPrincipal?.FindFirst("sub")?.Value); // OIDC Core §12.2, checked by OpenIddict

        // The refreshed token opens an OpenIddict API for its resource; the ID token (typ JWT) is no access token there.
        await using (var api = await OpenIddictResourceServer.StartJwtAsync(server, resource))
        {
            Assert.Equal(new ApiAnswer(HttpStatusCode.OK, user.Id, ""), await api.CallAsync(refreshed.AccessToken));
            AssertRefused(await api.CallAsync(signIn.IdentityToken), "ID2089"); // not of the expected type
        }

        // RP-initiated logout with id_token_hint and post_logout_redirect_uri; OpenIddict checks the state coming back.
        await page.GotoAsync(origin + "/logout");
        await ExpectOutcomeAsync(page, app, "signed-out");
        var endSession = QueryHelpers.ParseQuery(frontChannel.Last(u => u.AbsolutePath == "/connect/endsession").Query);
        Assert.Equal(signIn.IdentityToken, endSession["id_token_hint"].ToString());
        Assert.Equal(origin + OpenIddictRelyingParty.SignedOutPath, endSession["post_logout_redirect_uri"].ToString());

        // The server's session ended: the next sign-in shows the form again.
        await page.GotoAsync(origin + "/login");
        await Assertions.Expect(page.GetByLabel("Username or email")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task OpenIddict_validation_accepts_our_access_tokens_offline_and_through_introspection_and_checks_the_audience()
    {
        var (scope, resource) = await NewApiAsync();
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [scope], resources: [resource]);
        var introspector = await TestData.CreateClientAsync(server, grantTypes: [], scopes: [], canIntrospect: true, resource: resource);
        await using var app = await OpenIddictRelyingParty.StartAsync(OpenIddictRelyingParty.NewOrigin(), server, client, scope);
        await using var offline = await OpenIddictResourceServer.StartJwtAsync(server, resource);
        await using var introspecting = await OpenIddictResourceServer.StartIntrospectionAsync(server, introspector, resource);
        await using var otherApi = await OpenIddictResourceServer.StartJwtAsync(server, "https://other-api.interop.example");

        var token = (await app.Service.AuthenticateWithClientCredentialsAsync(new() { Scopes = [scope] })).AccessToken;
        Assert.Equal(new ApiAnswer(HttpStatusCode.OK, client.ClientId, ""), await offline.CallAsync(token));
        Assert.Equal(new ApiAnswer(HttpStatusCode.OK, client.ClientId, ""), await introspecting.CallAsync(token));

        // The audience check: a token for another resource server is refused by an API that is not in its aud.
        AssertRefused(await otherApi.CallAsync(token), "ID2094"); // no valid audience

        // RFC 7009 revocation, sent by OpenIddict's client. Introspection sees it at once; offline validation cannot and
        // accepts the token until it expires: the trade-off of self-contained tokens, and why they live only minutes.
        await app.Service.RevokeTokenAsync(new() { Token = token, TokenTypeHint = "access_token" });
        AssertRefused(await introspecting.CallAsync(token), "ID2106"); // rejected by the server: active=false
        Assert.Equal(HttpStatusCode.OK, (await offline.CallAsync(token)).Status);
        server.Time.Advance(TimeSpan.FromMinutes(11)); // past the 10-minute access-token lifetime
        AssertRefused(await offline.CallAsync(token), "ID2019"); // no longer valid
    }

    /// <summary>A scope naming a resource server of its own, so the tests of this class share nothing but the host.</summary>
    private async Task<(string Scope, string Resource)> NewApiAsync()
    {
        var name = "api-" + Guid.NewGuid().ToString("N")[..8];
        var resource = $"https://{name}.interop.example";
        await TestData.CreateScopeAsync(server, name, resource);
        return (name, resource);
    }

    /// <summary>A 401 whose WWW-Authenticate (RFC 6750 §3) names invalid_token and OpenIddict's reason (its documented error id).</summary>
    private static void AssertRefused(ApiAnswer answer, string openIddictError)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Contains("error=\"invalid_token\"", answer.Challenge, StringComparison.Ordinal);
        Assert.Contains("/errors/" + openIddictError, answer.Challenge, StringComparison.Ordinal);
    }

    private static async Task ExpectOutcomeAsync(IPage page, OpenIddictRelyingParty app, string outcome)
    {
        await Assertions.Expect(page.Locator("body")).ToHaveTextAsync(new Regex($"^({outcome}|failed)"));
        Assert.True(app.Outcome == outcome, $"the app says: {app.Outcome}");
    }
}
