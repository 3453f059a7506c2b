using IdentityServer.Tests.Infrastructure;
using Microsoft.Playwright;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// Federated sign-in in a real browser: a person on an app's sign-in page clicks "Continue with GitHub", picks their account at
/// the GitHub stand-in, allows the app, and the app receives a code for tokens about our user.
/// </summary>
public sealed class BrowserSignInTests(KestrelFederationServer server) : IClassFixture<KestrelFederationServer>
{
    [Fact]
    public async Task A_person_signs_in_with_GitHub_by_clicking_through_the_pages()
    {
        var client = await TestData.CreateClientAsync(server, consent: true);
        var account = server.StandIn.Add(StandInAccount.GitHubPrivateEmail());
        var (verifier, challenge) = TestData.NewPkce();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        // The app itself is not running: its redirect URI is caught and answered here.
        var appReceived = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(client.RedirectUri + "**", async route =>
        {
            appReceived.TrySetResult(route.Request.Url);
            await route.FulfillAsync(new() { Status = 200, ContentType = "text/plain", Body = "the app" });
        });

        await page.GotoAsync(new Uri(server.RootUri, OAuthFlow.AuthorizeUrl(client, challenge)).ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue with GitHub" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue as " + account.Name }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Allow", Exact = true }).ClickAsync();
        var callback = new Uri(await appReceived.Task.WaitAsync(TimeSpan.FromSeconds(30)));

        var idToken = await OAuthFlow.RedeemBrowserCallbackAsync(server, client, callback, verifier);
        var user = await FederatedFlow.LinkedUserAsync(server, "GitHub", account);
        Assert.Equal(user!.Id, idToken.Subject);
        Assert.Equal(account.Email, idToken.GetPayloadValue<string>("email"));
        Assert.Equal(account.Name, idToken.GetPayloadValue<string>("name"));
    }
}
