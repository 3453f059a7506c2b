using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;

namespace IdentityServer.Tests.Interop;

/// <summary>
/// A single-page app built on oidc-client-ts (the library most browser apps use for OpenID Connect), in Debian's
/// Chromium, on its own origin: it signs a person in through the code flow with PKCE, fetches tokens and userinfo across
/// origins, renews with the refresh token and in a hidden iframe, revokes its tokens and signs out through RP-initiated
/// logout. The library checks the responses (state, nonce, iss, the ID token's claims); the browser enforces CORS.
/// </summary>
public sealed class OidcClientTsBrowserTests(InteropServer server) : IClassFixture<InteropServer>
{
    [Fact]
    public async Task A_single_page_app_signs_in_renews_and_signs_out_with_oidc_client_ts()
    {
        await RelyingPartyScript.EnsureInstalledAsync();
        await using var spa = await SpaHost.StartAsync(server.IssuerUri);
        var client = await TestData.CreateClientAsync(server, confidential: false,
            extraRedirectUris: [spa.Origin + "/callback", spa.Origin + "/silent"], postLogoutRedirectUris: [spa.Origin + "/signed-out"]);
        spa.ClientId = client.ClientId;
        var user = await TestData.CreateUserAsync(server);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text + " " + message.Location);
            }
        };

        await page.GotoAsync(spa.Origin + "/");
        await ExpectStateAsync(page, "ready");
        await page.EvaluateAsync("() => { app.signIn(); }"); // navigates away: not awaited in the page
        await page.GetByLabel("Username or email").FillAsync(user.UserName!);
        await page.GetByLabel("Password").FillAsync(TestData.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await ExpectStateAsync(page, "callback");

        var signedIn = await UserAsync(page, "app.user()");
        Assert.Equal(user.Id, signedIn.GetProperty("sub").GetString());
        Assert.Equal(user.Email, signedIn.GetProperty("email").GetString()); // from the ID token and userinfo
        Assert.True(signedIn.GetProperty("hasRefreshToken").GetBoolean());
        Assert.False(signedIn.GetProperty("expired").GetBoolean());

        // Renewal: oidc-client-ts redeems the refresh token with a cross-origin POST to the token endpoint.
        var renewed = await UserAsync(page, "app.renew()");
        Assert.Equal(user.Id, renewed.GetProperty("sub").GetString());
        Assert.NotEqual(signedIn.GetProperty("accessToken").GetString(), renewed.GetProperty("accessToken").GetString());

        // Renewal in a hidden iframe (prompt=none over the server's session), the library's path without a refresh token.
        var framed = await UserAsync(page, "app.renewInFrame()");
        Assert.Equal(user.Id, framed.GetProperty("sub").GetString());
        Assert.NotEqual(renewed.GetProperty("accessToken").GetString(), framed.GetProperty("accessToken").GetString());

        await page.EvaluateAsync("() => { app.signOut(); }");
        await ExpectStateAsync(page, "signed-out");
        // The library revoked the access token on the way out (a cross-origin POST to /connect/revoke): its jti is on record.
        var jti = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(framed.GetProperty("accessToken").GetString()).Id;
        Assert.True(await server.WithDatabaseAsync(db => db.RevokedAccessTokens.AnyAsync(r => r.Jti == jti)));
        Assert.Null(await page.EvaluateAsync<JsonElement?>("app.user()"));

        // The server's session ended too: signing in again shows the form.
        await page.EvaluateAsync("() => { app.signIn(); }"); // navigates away: not awaited in the page
        await Assertions.Expect(page.GetByLabel("Username or email")).ToBeVisibleAsync();
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors));
    }

    private static async Task ExpectStateAsync(IPage page, string state)
    {
        var body = page.Locator("body");
        await Assertions.Expect(body).ToHaveAttributeAsync("data-state", new System.Text.RegularExpressions.Regex($"^({state}|error)$"));
        var actual = await body.GetAttributeAsync("data-state");
        Assert.True(actual == state, $"the app says: {await page.Locator("#error").TextContentAsync()}");
    }

    private static async Task<JsonElement> UserAsync(IPage page, string expression) =>
        await page.EvaluateAsync<JsonElement>(expression);
}
