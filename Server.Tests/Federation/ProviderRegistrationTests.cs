using System.Net;
using IdentityServer.Accounts;
using IdentityServer.Accounts.Federation;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.Federation;

/// <summary>The providers' stand-in with <c>Accounts:AllowRegistration=false</c> and no provider-registration setting.</summary>
public sealed class RegistrationClosedFederationServer : ServerFactory
{
    public ProviderStandIn StandIn { get; } = ProviderStandIn.Start();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(StandIn.ServerSettings())
    {
        ["Accounts:AllowRegistration"] = "false",
    };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            StandIn.Dispose();
        }
    }
}

/// <summary>
/// Closing registration closes it for providers too (<c>Accounts:AllowProviderRegistration</c> opens provider sign-up
/// alone), and a refused provider sign-in reads the same whether or not an account has the address.
/// </summary>
public sealed class ProviderRegistrationTests(RegistrationClosedFederationServer server) : IClassFixture<RegistrationClosedFederationServer>
{
    private async Task<HttpResponseMessage> SignInWithAsync(BrowserSession browser, string scheme, StandInAccount account)
    {
        server.StandIn.Add(account);
        var signInPage = await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins");
        return await FederatedFlow.SignInAsync(browser, signInPage, scheme, account);
    }

    /// <summary>Everything a person (or a script) sees of the answer: status, address and the page's text.</summary>
    private static async Task<(HttpStatusCode Status, string Path, string Text)> AnswerAsync(HttpResponseMessage page) =>
        (page.StatusCode, page.RequestMessage!.RequestUri!.AbsolutePath, (await BrowserSession.ReadPageAsync(page)).QuerySelector("main")!.TextContent.Trim());

    [Fact]
    public async Task With_registration_closed_a_first_provider_sign_in_creates_no_account()
    {
        var account = StandInAccount.Google();
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "Google", account);

        Assert.Equal("/account/external-callback", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains(AccountLinkingTests.NeutralAnswer + " Google", (await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]")!.TextContent, StringComparison.Ordinal);
        Assert.Null(await FederatedFlow.LinkedUserAsync(server, "Google", account));
        Assert.Equal(0, await FederatedFlow.UsersWithEmailAsync(server, account.Email!));
    }

    [Fact]
    public async Task The_answer_is_the_same_whether_or_not_an_account_has_the_address()
    {
        var owner = await TestData.CreateUserAsync(server); // has a password: never linked by email
        var registered = StandInAccount.Discord(email: owner.Email, verified: true);
        var unknown = StandInAccount.Discord(verified: true);
        using var first = new BrowserSession(server);
        using var second = new BrowserSession(server);

        var onRegistered = await AnswerAsync(await SignInWithAsync(first, "Discord", registered));
        var onUnknown = await AnswerAsync(await SignInWithAsync(second, "Discord", unknown));

        Assert.Equal(onUnknown, onRegistered);
        Assert.Contains(AccountLinkingTests.NeutralAnswer, onRegistered.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_registration_closed_existing_accounts_still_sign_in_and_link()
    {
        var owner = await TestData.CreateUserAsync(server, password: false);
        var account = StandInAccount.Discord(email: owner.Email, verified: true);
        using var browser = new BrowserSession(server);

        var page = await SignInWithAsync(browser, "Discord", account);

        Assert.Equal("/account/logins", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(owner.Id, (await FederatedFlow.LinkedUserAsync(server, "Discord", account))?.Id);
    }

    [Theory]
    [InlineData(false, null, false)] // closed registration closes provider sign-up too
    [InlineData(false, true, true)] // provider sign-up alone
    [InlineData(true, null, true)]
    [InlineData(true, false, false)] // local registration alone
    public async Task Provider_registration_follows_the_settings(bool allowRegistration, bool? allowProviderRegistration, bool created)
    {
        var options = new AccountOptions { AllowRegistration = allowRegistration, AllowProviderRegistration = allowProviderRegistration };
        await using var scope = server.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var federation = new ExternalSignIn(services.GetRequiredService<IdentityDbContext>(), services.GetRequiredService<UserManager<ApplicationUser>>(),
            services.GetRequiredService<AccountLookup>(), options, TimeProvider.System, services.GetRequiredService<ILogger<ExternalSignIn>>());
        var key = Guid.NewGuid().ToString("N");

        var result = await federation.ResolveAsync(new UserLoginInfo("GitHub", key, "GitHub"),
            ExternalProfile.Create(key, key + "@example.org", emailVerified: true, "New Person", "new-" + key[..8], picture: null), CancellationToken.None);

        Assert.Equal(created ? ExternalSignInOutcome.Created : ExternalSignInOutcome.RegistrationClosed, result.Outcome);
        Assert.Equal(created ? 1 : 0, await FederatedFlow.UsersWithEmailAsync(server, key + "@example.org"));
    }
}
