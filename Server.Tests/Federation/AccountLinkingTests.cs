using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// The linking rule: an existing account is linked automatically only when the provider asserts the email verified
/// AND the account's email is verified; otherwise the person is told to sign in the usual way and link from the
/// account page, and nothing is created or linked.
/// </summary>
[Collection(FederationHost.Name)]
public sealed class AccountLinkingTests(FederationServer server)
{
    private async Task<ApplicationUser> LocalUserAsync(bool emailVerified)
    {
        var user = await TestData.CreateUserAsync(server);
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

    [Fact]
    public async Task A_verified_provider_email_links_to_the_account_with_the_same_verified_email()
    {
        var user = await LocalUserAsync(emailVerified: true);
        var account = StandInAccount.Google(email: user.Email!.ToUpperInvariant(), verified: true);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "Google", account);

        Assert.Equal("/account/logins", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(user.Id, (await FederatedFlow.LinkedUserAsync(server, "Google", account))?.Id);
        Assert.Equal(1, await FederatedFlow.UsersWithEmailAsync(server, user.Email!));
        var document = await BrowserSession.ReadPageAsync(page);
        Assert.Contains("Google", document.QuerySelector("ul.scopes")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unverified_provider_email_is_not_linked_and_the_person_is_told_to_sign_in_and_link()
    {
        var user = await LocalUserAsync(emailVerified: true);
        var account = StandInAccount.Discord(email: user.Email, verified: false);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "Discord", account);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("/account/external-callback", page.RequestMessage!.RequestUri!.AbsolutePath);
        var text = (await BrowserSession.ReadPageAsync(page)).Body!.TextContent;
        Assert.Contains("already uses the email address that Discord gave us", text, StringComparison.Ordinal);
        Assert.Contains("link Discord from your account page", text, StringComparison.Ordinal);
        Assert.Null(await FederatedFlow.LinkedUserAsync(server, "Discord", account));
        Assert.Equal(1, await FederatedFlow.UsersWithEmailAsync(server, user.Email!));
        Assert.False(await IsSignedInAsync(browser));
    }

    [Fact]
    public async Task A_verified_provider_email_is_not_linked_to_an_account_whose_email_is_unverified()
    {
        var user = await LocalUserAsync(emailVerified: false);
        var account = StandInAccount.GitHubPrivateEmail(email: user.Email, verified: true);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "GitHub", account);

        Assert.Equal("/account/external-callback", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Null(await FederatedFlow.LinkedUserAsync(server, "GitHub", account));
        Assert.Equal(1, await FederatedFlow.UsersWithEmailAsync(server, user.Email!));
        Assert.False(await IsSignedInAsync(browser));
    }

    [Fact]
    public async Task Microsoft_never_links_by_email_because_graph_does_not_assert_verification()
    {
        var user = await LocalUserAsync(emailVerified: true);
        var account = StandInAccount.MicrosoftWork(email: user.Email);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "Microsoft", account);

        Assert.Equal("/account/external-callback", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Null(await FederatedFlow.LinkedUserAsync(server, "Microsoft", account));
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
