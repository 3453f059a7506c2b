using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Playwright;

namespace IdentityServer.Tests.Accounts;

/// <summary>The server on a real port named <c>localhost</c>: a passkey's relying party id must be a domain, not an IP address.</summary>
public sealed class PasskeyBrowserServer() : KestrelServer("localhost");

/// <summary>
/// Passkeys in a real browser (Debian's Chromium) with Chromium's virtual authenticator (the DevTools protocol's
/// WebAuthn domain): a platform authenticator that keeps discoverable credentials and verifies the user.
/// </summary>
public sealed class PasskeyBrowserTests(PasskeyBrowserServer server) : IClassFixture<PasskeyBrowserServer>
{
    [Fact]
    public async Task A_passkey_is_added_signs_in_without_a_password_and_as_the_second_step_and_stops_working_once_removed()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var authenticator = await VirtualAuthenticatorAsync(context, page);
        var appReceived = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(client.RedirectUri + "**", async route =>
        {
            // The app is not running: its redirect URI is caught and answered here.
            appReceived.TrySetResult(route.Request.Url);
            await route.FulfillAsync(new() { Status = 200, ContentType = "text/plain", Body = "the app" });
        });

        // Enrol, signed in with the password.
        await page.GotoAsync(server.Url("/account/security"));
        await SignInWithPasswordAsync(page, user.UserName!);
        await page.GetByLabel("Name (to tell your passkeys apart)").FillAsync("Test laptop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add a passkey" }).ClickAsync();
        await Assertions.Expect(page.GetByText("The passkey was added")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#passkey-list .passkey-name")).ToHaveTextAsync("Test laptop");
        // The first second factor of the account brings recovery codes.
        Assert.Equal(10, await page.Locator("#recovery-codes li").CountAsync());
        Assert.Single(await CredentialsAsync(authenticator));
        await page.GotoAsync(server.Url("/account"));
        await Assertions.Expect(page.Locator("#account-passkeys")).ToContainTextAsync("Test laptop");
        await SignOutAsync(page);

        // Passwordless, through an app's authorization request. The sign-in page offers the passkey in the username
        // field's autofill (conditional mediation), which the virtual authenticator approves at once, without a click.
        // The ID token says a passkey that verified the user signed in.
        var (verifier, challenge) = TestData.NewPkce();
        await page.GotoAsync(server.Url(OAuthFlow.AuthorizeUrl(client, challenge, scope: "openid profile")));
        var callback = new Uri(await appReceived.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        var idToken = await OAuthFlow.RedeemBrowserCallbackAsync(server, client, callback, verifier);
        Assert.Equal(user.Id, idToken.Subject);
        Assert.Equal(["hwk", "user", "mfa"], Amr(idToken));
        Assert.Equal("2", idToken.GetClaim("acr").Value);
        await SignOutAsync(page);

        // The password now asks for a second step, which the passkey gives. (The authenticator holds back while the
        // password is typed: it would otherwise answer the autofill's passkey request at once.)
        await PresenceAsync(authenticator, approve: false);
        await page.GotoAsync(server.Url("/account"));
        await SignInWithPasswordAsync(page, user.UserName!);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Two-step verification" })).ToBeVisibleAsync();
        await PresenceAsync(authenticator, approve: true);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use a passkey" }).ClickAsync();
        await page.WaitForURLAsync(server.Url("/account"));

        // Removed, it signs in no more, though the authenticator still holds it: neither through the autofill (which the
        // page then does not offer again) nor through the button.
        await page.GotoAsync(server.Url("/account/security"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Assertions.Expect(page.GetByText("The passkey was removed")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("You have no passkeys.")).ToBeVisibleAsync();
        await SignOutAsync(page);
        await page.GotoAsync(server.Url("/account/login"));
        await Assertions.Expect(page.GetByText("That passkey did not sign you in")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Use a passkey" }).ClickAsync();
        await Assertions.Expect(page.GetByText("That passkey did not sign you in")).ToBeVisibleAsync();
        // The page already showed the refusal text before the click, so wait for the second refusal's audit row.
        var refusals = 0;
        for (var waited = 0; waited < 100 && refusals < 2; waited++)
        {
            refusals = await server.WithDatabaseAsync(db => db.AuditEntries.CountAsync(e => e.Action == "sign_in.passkey" && e.Outcome == "failure"));
            if (refusals < 2)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(refusals >= 2, $"{refusals} refused passkey sign-ins audited");
        Assert.Single(await CredentialsAsync(authenticator));
        Assert.EndsWith("/account/login", new Uri(page.Url).AbsolutePath, StringComparison.Ordinal);
    }

    private static string[] Amr(JsonWebToken token) => [.. token.Claims.Where(c => c.Type == "amr").Select(c => c.Value)];

    private static async Task SignInWithPasswordAsync(IPage page, string userName)
    {
        await page.GetByLabel("Username or email").FillAsync(userName);
        await page.GetByLabel("Password").FillAsync(TestData.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
    }

    private async Task SignOutAsync(IPage page)
    {
        try
        {
            await page.GotoAsync(server.Url("/account/logout"));
        }
        catch (PlaywrightException e) when (e.Message.Contains("interrupted by another navigation", StringComparison.Ordinal))
        {
            // The app's callback (answered by the test's route) may still be settling after a flow: go again.
            await page.GotoAsync(server.Url("/account/logout"));
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You are signed out" })).ToBeVisibleAsync();
    }

    /// <summary>A CTAP2 platform authenticator with resident keys and user verification that approves every request.</summary>
    private static async Task<(ICDPSession Session, string Id)> VirtualAuthenticatorAsync(IBrowserContext context, IPage page)
    {
        var session = await context.NewCDPSessionAsync(page);
        await session.SendAsync("WebAuthn.enable");
        var added = await session.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2",
                ["transport"] = "internal",
                ["hasResidentKey"] = true,
                ["hasUserVerification"] = true,
                ["isUserVerified"] = true,
                ["automaticPresenceSimulation"] = true,
            },
        });
        return (session, added!.Value.GetProperty("authenticatorId").GetString()!);
    }

    private static async Task PresenceAsync((ICDPSession Session, string Id) authenticator, bool approve) =>
        await authenticator.Session.SendAsync("WebAuthn.setAutomaticPresenceSimulation",
            new Dictionary<string, object> { ["authenticatorId"] = authenticator.Id, ["enabled"] = approve });

    private static async Task<JsonElement[]> CredentialsAsync((ICDPSession Session, string Id) authenticator)
    {
        var result = await authenticator.Session.SendAsync("WebAuthn.getCredentials", new Dictionary<string, object> { ["authenticatorId"] = authenticator.Id });
        return [.. result!.Value.GetProperty("credentials").EnumerateArray()];
    }
}
