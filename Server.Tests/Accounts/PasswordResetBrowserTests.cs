using IdentityServer.Tests.Infrastructure;
using Microsoft.Playwright;

namespace IdentityServer.Tests.Accounts;

/// <summary>Forgot password in a real browser: the sign-in page's link, the email, the reset page, and signing in with the new password.</summary>
public sealed class PasswordResetBrowserTests(KestrelEmailServer server) : IClassFixture<KestrelEmailServer>
{
    [Fact]
    public async Task A_person_resets_a_forgotten_password_through_the_emailed_link_and_signs_in_with_it()
    {
        var user = await TestData.CreateUserAsync(server);
        const string NewPassword = "remembered this passphrase now";
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(30_000);

        await page.GotoAsync(server.Url("/account/login"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Forgot your password?" }).ClickAsync();
        await page.GetByLabel("Email").FillAsync(user.Email!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send the link" }).ClickAsync();
        await page.GetByText("If an account uses this address").WaitForAsync();

        var message = await server.Mail.WaitForAsync(user.Email!, "Reset your password");
        var link = MailCatcher.LinkIn(message, server.IssuerUri + "/account/reset-password?");
        await page.GotoAsync(link);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(NewPassword);
        await page.GetByLabel("New password again").FillAsync(NewPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save the new password" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with your new password" }).ClickAsync();
        await page.GetByLabel("Username or email").FillAsync(user.UserName!);
        await page.GetByLabel("Password").FillAsync(NewPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();

        await page.GetByText("You are signed in as").WaitForAsync();
        Assert.Equal(server.Url("/"), page.Url);
        await server.Mail.WaitForAsync(user.Email!, "Your password was changed");
    }
}
