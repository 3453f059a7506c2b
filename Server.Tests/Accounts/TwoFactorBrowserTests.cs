using IdentityServer.Tests.Infrastructure;
using Microsoft.Playwright;

namespace IdentityServer.Tests.Accounts;

/// <summary>The server on a real port for Chromium.</summary>
public sealed class TwoFactorBrowserServer : KestrelServer;

/// <summary>Two-step verification in a real browser (Debian's Chromium): enrol an authenticator, then sign in with a code.</summary>
public sealed class TwoFactorBrowserTests(TwoFactorBrowserServer server) : IClassFixture<TwoFactorBrowserServer>
{
    [Fact]
    public async Task A_person_turns_on_two_step_verification_and_signs_in_with_a_code()
    {
        var user = await TestData.CreateUserAsync(server);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        string key;

        await using (var context = await browser.NewContextAsync())
        {
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(30_000);
            await page.GotoAsync(server.Url("/account/security"));
            await page.GetByLabel("Username or email").FillAsync(user.UserName!);
            await page.GetByLabel("Password").FillAsync(TestData.Password);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            key = (await page.Locator("#shared-key").TextContentAsync())!.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
            await page.GetByLabel("Code").FillAsync(Totp.Code(key, -1));
            await page.GetByRole(AriaRole.Button, new() { Name = "Turn on" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your recovery codes" })).ToBeVisibleAsync();
            Assert.Equal(10, await page.Locator("#recovery-codes li").CountAsync());
        }

        await using (var context = await browser.NewContextAsync())
        {
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(30_000);
            await page.GotoAsync(server.Url("/account"));
            await page.GetByLabel("Username or email").FillAsync(user.UserName!);
            await page.GetByLabel("Password").FillAsync(TestData.Password);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Two-step verification" })).ToBeVisibleAsync();
            await page.GetByLabel("Code").FillAsync(Totp.Code(key));
            await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
            await page.WaitForURLAsync(server.Url("/account"));
        }
    }
}
