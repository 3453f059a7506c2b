using System.Net;
using IdentityServer.Tests.Federation;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Accounts;

/// <summary>The federation host (providers against the stand-in) sending account email to a <see cref="MailCatcher"/>.</summary>
public sealed class FederationEmailServer : ServerFactory
{
    public ProviderStandIn StandIn { get; } = ProviderStandIn.Start();
    public MailCatcher Mail { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(StandIn.ServerSettings().Concat(Mail.Settings));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            StandIn.Dispose();
            Mail.Dispose();
        }
    }
}

/// <summary>A security notice goes to the verified address when a sign-in method is linked: from the account page, or by the linking rule.</summary>
public sealed class SignInMethodNoticeTests(FederationEmailServer server) : IClassFixture<FederationEmailServer>
{
    [Fact]
    public async Task Linking_a_provider_from_the_account_page_sends_a_notice()
    {
        var user = await TestData.CreateUserAsync(server);
        var account = server.StandIn.Add(StandInAccount.Discord("someone-" + Guid.NewGuid().ToString("N")[..6] + "@elsewhere.example"));
        using var browser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), user.UserName!);

        var toProvider = await browser.SubmitAsync(await browser.GetAsync("/account/logins"), [], pressButtonValue: "Discord", formSelector: "form.providers");
        Assert.Equal(HttpStatusCode.Redirect, toProvider.StatusCode);
        var back = await browser.GetAsync((await FederatedFlow.AtProviderAsync(toProvider.Headers.Location!, account)).ToString());

        Assert.Equal("/account/logins", back.RequestMessage!.RequestUri!.AbsolutePath);
        var notice = await server.Mail.WaitForAsync(user.Email!, "A sign-in method was added");
        Assert.Contains("Discord", notice.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Linking_by_verified_email_sends_a_notice()
    {
        var user = await TestData.CreateUserAsync(server, password: false);
        var account = server.StandIn.Add(StandInAccount.GoogleWorkspace(user.Email!));
        using var browser = new BrowserSession(server);

        await FederatedFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount"), "Google", account);

        Assert.Equal(user.Id, (await FederatedFlow.LinkedUserAsync(server, "Google", account))?.Id);
        var notice = await server.Mail.WaitForAsync(user.Email!, "A sign-in method was added");
        Assert.Contains("Google", notice.TextBody, StringComparison.Ordinal);
    }
}
