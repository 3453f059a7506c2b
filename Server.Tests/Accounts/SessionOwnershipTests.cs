using System.Net;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Accounts;

/// <summary>
/// Every id a person sends about sessions, grants and sign-in methods (a session id, an app, a login) acts only on
/// what is theirs, side effects included: another person's id revokes none of their grants, ends none of their
/// sessions and makes the server send no logout token for them. The session id is no secret: it is the sid of every
/// ID token its owner's apps hold.
/// </summary>
public sealed class SessionOwnershipTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private sealed record Person(ApplicationUser User, BrowserSession Browser, string IdToken, string RefreshToken, string SessionId) : IDisposable
    {
        public void Dispose() => Browser.Dispose();
    }

    private async Task<TestClient> ClientAsync(BackchannelReceiver receiver) =>
        await TestData.CreateClientAsync(server, settings: new ClientSettings { BackchannelLogoutUri = receiver.Uri });

    private async Task<Person> SignInAsync(TestClient client)
    {
        var user = await TestData.CreateUserAsync(server);
        var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge);
        var (status, tokens, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        var idToken = tokens.GetProperty("id_token").GetString()!;
        return new Person(user, browser, idToken, tokens.GetProperty("refresh_token").GetString()!,
            new JsonWebToken(idToken).GetPayloadValue<string>("sid"));
    }

    private static async Task<bool> IsSignedInAsync(Person person, TestClient client)
    {
        var (_, challenge) = TestData.NewPkce();
        var response = await person.Browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge, extra: ("prompt", "none")));
        return OAuthFlow.CallbackParameters(response, client).ContainsKey("code");
    }

    /// <summary>The victim is untouched: still signed in, their refresh token still works, no logout token names their session.</summary>
    private static async Task AssertUntouchedAsync(Person victim, TestClient client, BackchannelReceiver receiver)
    {
        Assert.True(await IsSignedInAsync(victim, client), "the victim's session still stands");
        var (status, body, _) = await OAuthFlow.PostTokenAsync(victim.Browser.Http, client,
            new() { ["grant_type"] = "refresh_token", ["refresh_token"] = victim.RefreshToken });
        Assert.True(status == HttpStatusCode.OK, "the victim's grant was revoked: " + body);
        Assert.DoesNotContain(receiver.Received, t => BackchannelReceiver.Sid(t) == victim.SessionId);
    }

    /// <summary>The attacker signs out of their own session (a logout token for it follows the ones queued before).</summary>
    private static async Task SignOutAsync(Person person, BackchannelReceiver receiver)
    {
        var response = await person.Browser.GetAsync("/connect/endsession?id_token_hint=" + Uri.EscapeDataString(person.IdToken));
        Assert.Equal("/account/logout?signedOut=true", response.RequestMessage!.RequestUri!.PathAndQuery);
        await receiver.WaitForSessionAsync(person.SessionId);
    }

    [Fact]
    public async Task Another_persons_session_id_on_the_devices_page_ends_nothing_revokes_nothing_and_notifies_no_one()
    {
        await using var receiver = await BackchannelReceiver.StartAsync();
        var client = await ClientAsync(receiver);
        using var victim = await SignInAsync(client);
        using var attacker = await SignInAsync(client);

        var devices = await attacker.Browser.GetAsync("/account/devices");
        var answer = await attacker.Browser.SubmitAsync(devices, new() { ["sessionId"] = victim.SessionId }, formSelector: "form[action*='EndSession']");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        Assert.True(await IsSignedInAsync(attacker, client), "the attacker's own session is not the one named");
        await SignOutAsync(attacker, receiver);
        await AssertUntouchedAsync(victim, client, receiver);
        Assert.DoesNotContain("That device is signed out", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_an_app_on_the_devices_page_revokes_only_the_signed_in_persons_grants()
    {
        await using var receiver = await BackchannelReceiver.StartAsync();
        var client = await ClientAsync(receiver);
        using var victim = await SignInAsync(client);
        using var attacker = await SignInAsync(client);

        var devices = await attacker.Browser.GetAsync("/account/devices");
        var answer = await attacker.Browser.SubmitAsync(devices, new() { ["applicationId"] = client.ApplicationId }, formSelector: "form[action*='RevokeApp']");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        var (own, _, _) = await OAuthFlow.PostTokenAsync(attacker.Browser.Http, client,
            new() { ["grant_type"] = "refresh_token", ["refresh_token"] = attacker.RefreshToken });
        Assert.Equal(HttpStatusCode.BadRequest, own); // the attacker's own grant for the app is gone
        await SignOutAsync(attacker, receiver);
        await AssertUntouchedAsync(victim, client, receiver);
    }

    [Fact]
    public async Task Logout_with_another_persons_id_token_asks_first_and_then_ends_only_the_callers_session()
    {
        await using var receiver = await BackchannelReceiver.StartAsync();
        var client = await ClientAsync(receiver);
        using var victim = await SignInAsync(client);
        using var attacker = await SignInAsync(client);

        var confirm = await attacker.Browser.GetAsync("/connect/endsession?id_token_hint=" + Uri.EscapeDataString(victim.IdToken));
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Contains("Sign out?", await confirm.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await IsSignedInAsync(attacker, client), "nothing ends before the person confirms");

        await attacker.Browser.SubmitAsync(confirm, []);
        Assert.False(await IsSignedInAsync(attacker, client));
        await receiver.WaitForSessionAsync(attacker.SessionId);
        await AssertUntouchedAsync(victim, client, receiver);
    }

    [Fact]
    public async Task Another_persons_login_cannot_be_removed_from_the_sign_in_methods_page()
    {
        var victim = await TestData.CreateUserAsync(server);
        var attacker = await TestData.CreateUserAsync(server);
        var victimKey = "victim-" + Guid.NewGuid().ToString("N");
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            Assert.True((await users.AddLoginAsync((await users.FindByIdAsync(victim.Id))!, new UserLoginInfo("Google", victimKey, "Google"))).Succeeded);
            // The attacker's own login gives their page an unlink form (and its antiforgery token) to post with.
            Assert.True((await users.AddLoginAsync((await users.FindByIdAsync(attacker.Id))!, new UserLoginInfo("Google", "attacker-" + Guid.NewGuid().ToString("N"), "Google"))).Succeeded);
        }

        using var browser = new BrowserSession(server);
        var page = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), attacker.UserName!);
        var answer = await browser.SubmitAsync(page, new() { ["provider"] = "Google", ["providerKey"] = victimKey }, formSelector: "form[action*=Unlink]");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await using var check = server.Services.CreateAsyncScope();
        var owner = await check.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByLoginAsync("Google", victimKey);
        Assert.Equal(victim.Id, owner?.Id);
    }
}
