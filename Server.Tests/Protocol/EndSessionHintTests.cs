using System.Net;
using System.Text.Json.Nodes;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Security;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// The id_token_hint of RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2): only an ID token of this server
/// is a hint (not an access token, not a logout token, though the same keys sign them), and it ends the session without
/// asking only when it was issued in this very session; an expired one still does.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class EndSessionHintTests(SqliteServer server)
{
    private const string SignedOut = "https://rp.example/signed-out";
    private static readonly string[] IdTokenOnlyClaims = ["nonce", "at_hash", "auth_time", "email", "email_verified", "name", "preferred_username"];

    private sealed record SignedIn(BrowserSession Browser, TestClient Client, string UserName, string IdToken, string AccessToken) : IDisposable
    {
        public string SessionId => new JsonWebToken(IdToken).GetPayloadValue<string>("sid");

        public void Dispose() => Browser.Dispose();
    }

    private async Task<SignedIn> SignInAsync(TestClient? client = null, string? userName = null, BrowserSession? browser = null)
    {
        client ??= await TestData.CreateClientAsync(server, postLogoutRedirectUris: [SignedOut]);
        userName ??= (await TestData.CreateUserAsync(server)).UserName!;
        browser ??= new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, client, userName, challenge, extra: ("prompt", "login"));
        var (status, tokens, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        return new SignedIn(browser, client, userName, tokens.GetProperty("id_token").GetString()!, tokens.GetProperty("access_token").GetString()!);
    }

    private static Task<HttpResponseMessage> LogoutAsync(SignedIn session, string hint) =>
        session.Browser.GetAsync("/connect/endsession?id_token_hint=" + Uri.EscapeDataString(hint)
            + "&post_logout_redirect_uri=" + Uri.EscapeDataString(SignedOut) + "&state=s-1");

    private static async Task<bool> IsSignedInAsync(SignedIn session)
    {
        var (_, challenge) = TestData.NewPkce();
        var response = await session.Browser.GetAsync(OAuthFlow.AuthorizeUrl(session.Client, challenge, extra: ("prompt", "none")));
        return OAuthFlow.CallbackParameters(response, session.Client).ContainsKey("code");
    }

    private static async Task AssertConfirmationAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/account/logout", response.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("Sign out?", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A logout token for this very session, as the server would send it (Back-Channel Logout 1.0 §2.4).</summary>
    private string LogoutTokenFor(SignedIn session, string typ) => Forge.SignedByServer(server, session.IdToken, payload =>
    {
        foreach (var claim in IdTokenOnlyClaims)
        {
            payload.Remove(claim);
        }

        payload["jti"] = Guid.NewGuid().ToString("N");
        payload["events"] = new JsonObject { ["http://schemas.openid.net/event/backchannel-logout"] = new JsonObject() };
    }, header => header["typ"] = typ);

    [Fact]
    public async Task A_logout_token_of_this_session_is_refused_as_a_hint()
    {
        using var session = await SignInAsync();

        var response = await LogoutAsync(session, LogoutTokenFor(session, "logout+jwt"));

        await AuthorizeRequests.AssertErrorPageAsync(response);
        Assert.True(await IsSignedInAsync(session), "a refused logout request ends nothing");
    }

    [Fact]
    public async Task A_token_with_the_logout_event_is_refused_as_a_hint_whatever_its_typ()
    {
        using var session = await SignInAsync();

        var response = await LogoutAsync(session, LogoutTokenFor(session, "JWT"));

        await AuthorizeRequests.AssertErrorPageAsync(response);
        Assert.True(await IsSignedInAsync(session));
    }

    [Fact]
    public async Task An_access_token_of_this_session_is_refused_as_a_hint()
    {
        using var session = await SignInAsync();

        var response = await LogoutAsync(session, session.AccessToken);

        await AuthorizeRequests.AssertErrorPageAsync(response);
        Assert.True(await IsSignedInAsync(session));
    }

    [Fact]
    public async Task An_ID_token_of_an_earlier_session_in_this_browser_asks_before_ending_the_current_one()
    {
        using var first = await SignInAsync();
        var oldIdToken = first.IdToken;
        // The same person signs in again in the same browser (prompt=login): a new session with a new sid.
        var second = await SignInAsync(first.Client, first.UserName, first.Browser);
        Assert.NotEqual(first.SessionId, second.SessionId);

        var response = await LogoutAsync(second, oldIdToken);

        await AssertConfirmationAsync(response);
        Assert.True(await IsSignedInAsync(second), "nothing ends before the person confirms");
        var done = await second.Browser.SubmitAsync(response, []);
        Assert.Equal(SignedOut + "?state=s-1", done.Headers.Location!.ToString());
        Assert.False(await IsSignedInAsync(second));
    }

    [Fact]
    public async Task An_ID_token_of_the_same_persons_session_in_another_browser_asks_first()
    {
        using var here = await SignInAsync();
        using var elsewhere = await SignInAsync(here.Client, here.UserName);

        var response = await LogoutAsync(here, elsewhere.IdToken);

        await AssertConfirmationAsync(response);
        Assert.True(await IsSignedInAsync(here));
        Assert.True(await IsSignedInAsync(elsewhere));
    }

    [Fact]
    public async Task An_expired_ID_token_of_this_session_still_ends_it_without_asking()
    {
        using var session = await SignInAsync();
        var expired = Forge.SignedByServer(server, session.IdToken, payload =>
        {
            payload["iat"] = Forge.Now(server) - 7200;
            payload["exp"] = Forge.Now(server) - 3600;
        });

        var response = await LogoutAsync(session, expired);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(SignedOut + "?state=s-1", response.Headers.Location!.ToString());
        Assert.False(await IsSignedInAsync(session));
    }
}
