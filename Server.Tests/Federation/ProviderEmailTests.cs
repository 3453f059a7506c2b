using System.Net;
using IdentityServer.Accounts.Federation;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// What each provider's "verified" is worth: Google's only where Google is authoritative for the address (Gmail, or its
/// Workspace domain); GitHub's /user/emails, with /user's public email taken (unverified) only when GitHub refuses the
/// emails to the token, never when GitHub fails; Discord on its versioned API.
/// </summary>
[Collection(FederationHost.Name)]
public sealed class ProviderEmailTests(FederationServer server)
{
    private async Task<HttpResponseMessage> SignInWithAsync(BrowserSession browser, string scheme, StandInAccount account)
    {
        server.StandIn.Add(account);
        var signInPage = await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins");
        return await FederatedFlow.SignInAsync(browser, signInPage, scheme, account);
    }

    [Theory]
    [InlineData("gail@gmail.com", true, null, true)]
    [InlineData("gail@GMAIL.COM", true, null, true)]
    [InlineData("gail@gmail.com", false, null, false)]
    [InlineData("wendy@contoso.example", true, "contoso.example", true)]
    [InlineData("wendy@Contoso.Example", true, "contoso.example", true)]
    [InlineData("wendy@contoso.example", false, "contoso.example", false)]
    // A Google account made with an existing address: verified once, at sign-up; Google is not authoritative for it.
    [InlineData("someone@example.org", true, null, false)]
    // A Workspace account carrying an address of another domain.
    [InlineData("someone@example.org", true, "contoso.example", false)]
    [InlineData("someone@mail.gmail.com", true, null, false)]
    [InlineData("someone@gmail.com.evil.example", true, null, false)]
    [InlineData("someone@gmaıl.com", true, null, false)] // U+0131 DOTLESS I: not Gmail
    public void Googles_email_verified_counts_only_where_google_is_authoritative(string email, bool verified, string? hostedDomain, bool trusted) =>
        Assert.Equal(trusted, GoogleProvider.IsAuthoritative(email, verified, hostedDomain));

    [Fact]
    public async Task A_google_account_made_with_someone_elses_address_is_not_trusted_with_it()
    {
        var owner = await TestData.CreateUserAsync(server, password: false);
        var account = StandInAccount.Google(email: owner.Email, verified: true); // no hd: a consumer account, not Gmail
        using var browser = new BrowserSession(server);

        await SignInWithAsync(browser, "Google", account);

        var created = await FederatedFlow.LinkedUserAsync(server, "Google", account);
        Assert.NotNull(created);
        Assert.NotEqual(owner.Id, created.Id);
        Assert.False(created.EmailConfirmed);
    }

    [Fact]
    public async Task A_google_workspace_account_of_the_addresss_domain_is_trusted_and_a_gmail_address_is_too()
    {
        var workspace = StandInAccount.GoogleWorkspace("wendy." + Guid.NewGuid().ToString("N")[..8] + "@contoso.example");
        var gmail = StandInAccount.Google();
        using var first = new BrowserSession(server);
        using var second = new BrowserSession(server);

        await SignInWithAsync(first, "Google", workspace);
        await SignInWithAsync(second, "Google", gmail);

        Assert.True((await FederatedFlow.LinkedUserAsync(server, "Google", workspace))!.EmailConfirmed);
        Assert.True((await FederatedFlow.LinkedUserAsync(server, "Google", gmail))!.EmailConfirmed);
    }

    [Theory]
    [InlineData(403)]
    [InlineData(404)]
    public async Task When_github_refuses_the_emails_to_the_token_the_public_email_is_used_unverified(int status)
    {
        var publicEmail = "public-" + Guid.NewGuid().ToString("N")[..8] + "@example.org";
        var account = StandInAccount.GitHubPrivateEmail(publicEmail: publicEmail, emailsStatus: status);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "GitHub", account);

        Assert.Equal("/account/logins", page.RequestMessage!.RequestUri!.AbsolutePath);
        var user = await FederatedFlow.LinkedUserAsync(server, "GitHub", account);
        Assert.Equal(publicEmail, user?.Email);
        Assert.False(user!.EmailConfirmed);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(429)]
    [InlineData(401)]
    public async Task When_github_fails_on_the_emails_the_person_gets_the_error_page_and_no_account(int status)
    {
        var owner = await TestData.CreateUserAsync(server, password: false);
        // The person already has an account here with this address, linked to nothing yet: a failure must not make a second one.
        var account = StandInAccount.GitHubPrivateEmail(email: owner.Email, publicEmail: owner.Email, emailsStatus: status);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "GitHub", account);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("/account/external-error", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("GitHub could not sign you in", (await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]")!.TextContent, StringComparison.Ordinal);
        Assert.Null(await FederatedFlow.LinkedUserAsync(server, "GitHub", account));
        Assert.Equal(1, await FederatedFlow.UsersWithEmailAsync(server, owner.Email!));
    }

    [Fact]
    public void Discord_is_called_on_its_versioned_api()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Authentication:Discord:ClientId"] = "discord-client",
            ["Authentication:Discord:ClientSecret"] = "discord-secret",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAuthentication().AddDiscordSignIn(configuration, secureCookies: true);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<OAuthOptions>>().Get(DiscordProvider.Scheme);

        Assert.Equal("https://discord.com/oauth2/authorize", options.AuthorizationEndpoint);
        Assert.Equal("https://discord.com/api/v10/oauth2/token", options.TokenEndpoint);
        Assert.Equal("https://discord.com/api/v10/users/@me", options.UserInformationEndpoint);
    }
}
