using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Federation;

/// <summary>Unlinking from the account page: never the last way to sign in, and it does not sign this browser out.</summary>
[Collection(FederationHost.Name)]
public sealed class UnlinkTests(FederationServer server)
{
    /// <summary>A person who only ever signed in with the provider: no password, one login. Returns their account page.</summary>
    private async Task<(BrowserSession Browser, HttpResponseMessage Page)> FederatedOnlyAsync(StandInAccount account)
    {
        server.StandIn.Add(account);
        var browser = new BrowserSession(server);
        var signInPage = await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins");
        var page = await FederatedFlow.SignInAsync(browser, signInPage, "Google", account);
        Assert.Equal("/account/logins", page.RequestMessage!.RequestUri!.AbsolutePath);
        return (browser, page);
    }

    private static async Task<HttpResponseMessage> UnlinkAsync(BrowserSession browser, HttpResponseMessage page, string provider, string providerKey)
    {
        // The page's antiforgery token, posted to the unlink handler as the page's own form would.
        var document = await BrowserSession.ReadPageAsync(page);
        var token = document.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var response = await browser.Http.PostAsync(new Uri("/account/logins?handler=Unlink", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["provider"] = provider,
            ["providerKey"] = providerKey,
            ["__RequestVerificationToken"] = token,
        }));
        return await browser.FollowAsync(response);
    }

    [Fact]
    public async Task The_only_login_of_an_account_without_password_cannot_be_unlinked()
    {
        var account = StandInAccount.Google();
        var (browser, page) = await FederatedOnlyAsync(account);
        using (browser)
        {
            var document = await BrowserSession.ReadPageAsync(page);
            Assert.Null(document.QuerySelector("form[action*=Unlink]"));
            Assert.Contains("Your only way to sign in", document.Body!.TextContent, StringComparison.Ordinal);

            // Posting the unlink anyway is refused by the server, not just hidden by the page.
            var response = await UnlinkAsync(browser, page, "Google", account.Id);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("only way to sign in", (await BrowserSession.ReadPageAsync(response)).QuerySelector("[role=alert]")!.TextContent, StringComparison.Ordinal);
            Assert.NotNull(await FederatedFlow.LinkedUserAsync(server, "Google", account));
        }
    }

    [Fact]
    public async Task With_a_second_provider_linked_one_can_be_unlinked_and_the_session_survives_the_new_security_stamp()
    {
        var google = StandInAccount.Google();
        var (browser, page) = await FederatedOnlyAsync(google);
        using (browser)
        {
            var discord = server.StandIn.Add(StandInAccount.Discord(verified: false));
            var toProvider = await browser.SubmitAsync(page, [], pressButtonValue: "Discord", formSelector: "form.providers");
            page = await browser.GetAsync((await FederatedFlow.AtProviderAsync(toProvider.Headers.Location!, discord)).ToString());
            var user = await FederatedFlow.LinkedUserAsync(server, "Google", google);
            Assert.Equal(user!.Id, (await FederatedFlow.LinkedUserAsync(server, "Discord", discord))?.Id);

            var response = await UnlinkAsync(browser, page, "Google", google.Id);

            Assert.Contains("removed", (await BrowserSession.ReadPageAsync(response)).QuerySelector("[role=status]")!.TextContent, StringComparison.Ordinal);
            Assert.Null(await FederatedFlow.LinkedUserAsync(server, "Google", google));
            Assert.Equal(user.Id, (await FederatedFlow.LinkedUserAsync(server, "Discord", discord))?.Id);

            // Identity re-validates the security stamp every 30 minutes; this browser's session was re-issued with the new one.
            server.Time.Advance(TimeSpan.FromMinutes(31));
            var later = await browser.GetAsync("/account/logins");
            Assert.Equal("/account/logins", later.RequestMessage!.RequestUri!.AbsolutePath);
            // And Discord, now the only way in, cannot be removed.
            Assert.Null((await BrowserSession.ReadPageAsync(later)).QuerySelector("form[action*=Unlink]"));
        }
    }

    [Fact]
    public async Task An_account_with_a_password_can_unlink_its_only_provider()
    {
        var user = await TestData.CreateUserAsync(server);
        var account = server.StandIn.Add(StandInAccount.Google());
        using var browser = new BrowserSession(server);
        var page = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), user.UserName!);
        var toProvider = await browser.SubmitAsync(page, [], pressButtonValue: "Google", formSelector: "form.providers");
        page = await browser.GetAsync((await FederatedFlow.AtProviderAsync(toProvider.Headers.Location!, account)).ToString());
        Assert.Equal(user.Id, (await FederatedFlow.LinkedUserAsync(server, "Google", account))?.Id);

        var response = await UnlinkAsync(browser, page, "Google", account.Id);

        Assert.Contains("removed", (await BrowserSession.ReadPageAsync(response)).QuerySelector("[role=status]")!.TextContent, StringComparison.Ordinal);
        Assert.Null(await FederatedFlow.LinkedUserAsync(server, "Google", account));
    }
}
