using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// The linking rule: an existing account is linked automatically only when the provider asserts the email verified,
/// exactly one account holds that address verified (compared exactly, ASCII case aside), and that account has no
/// password, no role and no other login of the same provider. Otherwise the person gets one neutral answer (sign in the
/// usual way and link from the account page) and nothing is created or linked. Unverified emails neither link nor block.
/// </summary>
[Collection(FederationHost.Name)]
public sealed class AccountLinkingTests(FederationServer server)
{
    /// <summary>The one answer for every refusal, whichever rule refused and whether or not an account has the address.</summary>
    public const string NeutralAnswer = "We could not sign you in with";

    private async Task<ApplicationUser> LocalUserAsync(bool emailVerified, bool password = true)
    {
        var user = await TestData.CreateUserAsync(server, password: password);
        if (!emailVerified)
        {
            await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.EmailConfirmed, false)));
        }

        return user;
    }

    private async Task<HttpResponseMessage> SignInWithAsync(BrowserSession browser, string scheme, StandInAccount account)
    {
        server.StandIn.Add(account);
        var signInPage = await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins");
        return await FederatedFlow.SignInAsync(browser, signInPage, scheme, account);
    }

    private static async Task<bool> IsSignedInAsync(BrowserSession browser)
    {
        var page = await browser.GetAsync("/account/logins");
        return page.RequestMessage!.RequestUri!.AbsolutePath == "/account/logins";
    }

    /// <summary>The neutral page: nothing created or linked, nobody signed in.</summary>
    private async Task AssertRefusedAsync(BrowserSession browser, HttpResponseMessage page, string scheme, StandInAccount account, ApplicationUser owner)
    {
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("/account/external-callback", page.RequestMessage!.RequestUri!.AbsolutePath);
        var text = (await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]")!.TextContent;
        Assert.Contains(NeutralAnswer + " " + scheme, text, StringComparison.Ordinal);
        Assert.Contains("link " + scheme + " from your account page", text, StringComparison.Ordinal);
        Assert.DoesNotContain("already uses", text, StringComparison.Ordinal);
        Assert.Null(await FederatedFlow.LinkedUserAsync(server, scheme, account));
        Assert.Equal(1, await FederatedFlow.UsersWithEmailAsync(server, owner.Email!));
        Assert.False(await IsSignedInAsync(browser));
    }

    [Fact]
    public async Task A_verified_provider_email_links_to_the_passwordless_account_with_the_same_verified_email()
    {
        var user = await LocalUserAsync(emailVerified: true, password: false);
        // ASCII case is the only difference allowed.
        var account = StandInAccount.GoogleWorkspace(user.Email!.ToUpperInvariant());
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "Google", account);

        Assert.Equal("/account/logins", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(user.Id, (await FederatedFlow.LinkedUserAsync(server, "Google", account))?.Id);
        Assert.Equal(1, await FederatedFlow.UsersWithEmailAsync(server, user.Email!));
        var document = await BrowserSession.ReadPageAsync(page);
        Assert.Contains("Google", document.QuerySelector("ul.scopes")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_account_with_a_password_is_not_linked_by_email()
    {
        var user = await LocalUserAsync(emailVerified: true);
        var account = StandInAccount.GoogleWorkspace(user.Email!);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "Google", account);

        await AssertRefusedAsync(browser, page, "Google", account, user);
    }

    [Fact]
    public async Task An_admin_account_is_not_linked_by_email()
    {
        var user = await LocalUserAsync(emailVerified: true, password: false);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
            if (!await roles.RoleExistsAsync("admin"))
            {
                await roles.CreateAsync(new IdentityRole("admin"));
            }

            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            Assert.True((await users.AddToRoleAsync((await users.FindByIdAsync(user.Id))!, "admin")).Succeeded);
        }

        var account = StandInAccount.Discord(email: user.Email, verified: true);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "Discord", account);

        await AssertRefusedAsync(browser, page, "Discord", account, user);
    }

    [Fact]
    public async Task An_account_with_a_login_of_the_same_provider_under_another_id_is_not_linked_but_another_provider_is()
    {
        var first = StandInAccount.GitHubPrivateEmail();
        using (var browser = new BrowserSession(server))
        {
            await SignInWithAsync(browser, "GitHub", first);
        }

        var owner = (await FederatedFlow.LinkedUserAsync(server, "GitHub", first))!;
        Assert.True(owner.EmailConfirmed);
        // A second GitHub account now vouches for the same address: it is not the person who linked the first one.
        var second = StandInAccount.GitHubPrivateEmail(email: first.Email);
        using (var browser = new BrowserSession(server))
        {
            await AssertRefusedAsync(browser, await SignInWithAsync(browser, "GitHub", second), "GitHub", second, owner);
        }

        // Another provider's verified email still links (the account has no password, no role, no Discord login).
        var discord = StandInAccount.Discord(email: first.Email, verified: true);
        using (var browser = new BrowserSession(server))
        {
            await SignInWithAsync(browser, "Discord", discord);
        }

        Assert.Equal(owner.Id, (await FederatedFlow.LinkedUserAsync(server, "Discord", discord))?.Id);
    }

    [Fact]
    public async Task A_look_alike_address_that_only_unicode_case_folding_makes_equal_is_not_linked_nor_registered_again()
    {
        var user = await LocalUserAsync(emailVerified: true, password: false);
        Assert.Contains("s", user.Email!, StringComparison.Ordinal);
        // U+017F LATIN SMALL LETTER LONG S: Identity's normalizer (ToUpperInvariant) makes it "S".
        var lookAlike = user.Email!.Replace('s', '\u017F');
        var account = StandInAccount.Discord(email: lookAlike, verified: true);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "Discord", account);

        await AssertRefusedAsync(browser, page, "Discord", account, user);
        Assert.Empty(await server.WithDatabaseAsync(db => db.Users.Where(u => u.Email == lookAlike).ToListAsync()));
    }

    [Fact]
    public async Task An_unverified_provider_email_neither_links_nor_tells_whether_the_address_is_registered()
    {
        var user = await LocalUserAsync(emailVerified: true);
        var taken = StandInAccount.Discord(email: user.Email, verified: false);
        var free = StandInAccount.Discord(email: "free-" + Guid.NewGuid().ToString("N")[..10] + "@example.com", verified: false);
        using var first = new BrowserSession(server);
        using var second = new BrowserSession(server);

        var onTaken = await SignInWithAsync(first, "Discord", taken);
        var onFree = await SignInWithAsync(second, "Discord", free);

        // The same answer either way: a new account of its own, signed in.
        Assert.Equal((onFree.StatusCode, onFree.RequestMessage!.RequestUri!.AbsolutePath), (onTaken.StatusCode, onTaken.RequestMessage!.RequestUri!.AbsolutePath));
        Assert.Equal("/account/logins", onTaken.RequestMessage!.RequestUri!.AbsolutePath);
        var created = await FederatedFlow.LinkedUserAsync(server, "Discord", taken);
        Assert.NotNull(created);
        Assert.NotEqual(user.Id, created.Id);
        Assert.False(created.EmailConfirmed);
        Assert.Equal(2, await FederatedFlow.UsersWithEmailAsync(server, user.Email!));
        // Signing in with the address still finds the account that verified it.
        using var byEmail = new BrowserSession(server);
        var signedIn = await OAuthFlow.SignInAsync(byEmail, await byEmail.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), user.Email!);
        Assert.Equal("/account/logins", signedIn.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task A_verified_provider_email_is_not_linked_to_an_account_whose_email_is_unverified()
    {
        var user = await LocalUserAsync(emailVerified: false, password: false);
        var account = StandInAccount.GitHubPrivateEmail(email: user.Email, verified: true);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "GitHub", account);

        // Whoever typed the address without proving it does not get the provider's account; its owner gets an account of their own.
        Assert.Equal("/account/logins", page.RequestMessage!.RequestUri!.AbsolutePath);
        var created = await FederatedFlow.LinkedUserAsync(server, "GitHub", account);
        Assert.NotNull(created);
        Assert.NotEqual(user.Id, created.Id);
        Assert.True(created.EmailConfirmed);
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        Assert.Empty(await users.GetLoginsAsync((await users.FindByIdAsync(user.Id))!));
    }

    [Fact]
    public async Task Microsoft_never_links_by_email_because_graph_does_not_assert_verification()
    {
        var user = await LocalUserAsync(emailVerified: true, password: false);
        var account = StandInAccount.MicrosoftWork(email: user.Email);
        using var browser = new BrowserSession(server);

        await SignInWithAsync(browser, "Microsoft", account);

        Assert.NotEqual(user.Id, (await FederatedFlow.LinkedUserAsync(server, "Microsoft", account))?.Id);
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        Assert.Empty(await users.GetLoginsAsync((await users.FindByIdAsync(user.Id))!));
    }

    [Fact]
    public async Task After_signing_in_the_usual_way_the_person_links_the_provider_from_the_account_page()
    {
        var user = await LocalUserAsync(emailVerified: true);
        var account = server.StandIn.Add(StandInAccount.Discord(email: user.Email, verified: false));
        using var browser = new BrowserSession(server);
        var signInPage = await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins");
        var accountPage = await OAuthFlow.SignInAsync(browser, signInPage, user.UserName!);
        Assert.Equal("/account/logins", accountPage.RequestMessage!.RequestUri!.AbsolutePath);

        var toProvider = await browser.SubmitAsync(accountPage, [], pressButtonValue: "Discord", formSelector: "form.providers");
        Assert.Equal(HttpStatusCode.Redirect, toProvider.StatusCode);
        var back = await FederatedFlow.AtProviderAsync(toProvider.Headers.Location!, account);
        var linkedPage = await browser.GetAsync(back.ToString());

        Assert.Equal("/account/logins", linkedPage.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("linked", (await BrowserSession.ReadPageAsync(linkedPage)).QuerySelector("[role=status]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(user.Id, (await FederatedFlow.LinkedUserAsync(server, "Discord", account))?.Id);

        // From now on Discord signs this person in as the same user.
        var client = await TestData.CreateClientAsync(server);
        using var another = new BrowserSession(server);
        var (_, challenge) = TestData.NewPkce();
        var callback = await FederatedFlow.AuthorizeAsync(another, client, "Discord", account, challenge);
        Assert.True(callback.ContainsKey("code"));
        Assert.Equal(1, await FederatedFlow.UsersWithEmailAsync(server, user.Email!));
    }

    [Fact]
    public async Task A_provider_account_linked_to_someone_else_is_not_linked_again()
    {
        var account = StandInAccount.Google();
        using (var first = new BrowserSession(server))
        {
            await SignInWithAsync(first, "Google", account);
        }

        var owner = await FederatedFlow.LinkedUserAsync(server, "Google", account);
        Assert.NotNull(owner);
        var other = await LocalUserAsync(emailVerified: true);
        using var browser = new BrowserSession(server);
        var accountPage = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), other.UserName!);

        var toProvider = await browser.SubmitAsync(accountPage, [], pressButtonValue: "Google", formSelector: "form.providers");
        var back = await FederatedFlow.AtProviderAsync(toProvider.Headers.Location!, account);
        var page = await browser.GetAsync(back.ToString());

        Assert.Contains("already linked to another user", (await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(owner.Id, (await FederatedFlow.LinkedUserAsync(server, "Google", account))?.Id);
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        Assert.Empty(await users.GetLoginsAsync((await users.FindByIdAsync(other.Id))!));
    }
}
