using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// Wrong passwords lock the password, not the person: whoever types five wrong passwords for an admin's name cannot
/// keep the admin out, because a linked provider still signs the admin in. An account an admin disabled is refused on
/// every way in.
/// </summary>
[Collection(FederationHost.Name)]
public sealed class LockoutTests(FederationServer server)
{
    private async Task<(ApplicationUser User, StandInAccount Google)> AdminWithGoogleAsync()
    {
        var user = await TestData.CreateUserAsync(server);
        var google = server.StandIn.Add(StandInAccount.Google());
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync("admin"))
        {
            await roles.CreateAsync(new IdentityRole("admin"));
        }

        var stored = (await users.FindByIdAsync(user.Id))!;
        Assert.True((await users.AddToRoleAsync(stored, "admin")).Succeeded);
        Assert.True((await users.AddLoginAsync(stored, new UserLoginInfo("Google", google.Id, "Google"))).Succeeded);
        return (user, google);
    }

    private static async Task<HttpResponseMessage> PasswordAsync(BrowserSession browser, string userName, string password) =>
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), userName, password);

    [Fact]
    public async Task An_admin_whose_password_an_attacker_locked_still_signs_in_through_a_linked_provider()
    {
        var (admin, google) = await AdminWithGoogleAsync();
        using (var attacker = new BrowserSession(server))
        {
            for (var i = 1; i <= 5; i++)
            {
                await PasswordAsync(attacker, admin.UserName!, "wrong password number " + i);
            }
        }

        using var browser = new BrowserSession(server);
        // The password is locked: even the right one is refused for now.
        var withPassword = await PasswordAsync(browser, admin.UserName!, TestData.Password);
        Assert.Equal("/account/login", withPassword.RequestMessage!.RequestUri!.AbsolutePath);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            Assert.True(await users.IsLockedOutAsync((await users.FindByIdAsync(admin.Id))!));
        }

        var withGoogle = await FederatedFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), "Google", google);

        Assert.Equal("/account/logins", withGoogle.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(admin.Id, (await FederatedFlow.LinkedUserAsync(server, "Google", google))?.Id);
    }

    [Fact]
    public async Task A_disabled_account_is_refused_through_its_provider_too()
    {
        var (admin, google) = await AdminWithGoogleAsync();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            // What the admin area's "disable" does: a lockout without practical end.
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var stored = (await users.FindByIdAsync(admin.Id))!;
            await users.SetLockoutEnabledAsync(stored, true);
            await users.SetLockoutEndDateAsync(stored, DateTimeOffset.MaxValue);
        }

        using var browser = new BrowserSession(server);
        var page = await FederatedFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), "Google", google);

        Assert.Equal("/account/external-callback", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("cannot sign in at the moment", (await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]")!.TextContent, StringComparison.Ordinal);
        var again = await browser.GetAsync("/account/logins");
        Assert.Equal("/account/login", again.RequestMessage!.RequestUri!.AbsolutePath);
    }
}
