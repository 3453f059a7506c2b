using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// Whatever goes wrong upstream, the person gets a friendly page (200, never a 500) with a way back to where they were
/// signing in, nobody is signed in, and no user is created.
/// </summary>
[Collection(FederationHost.Name)]
public sealed class UpstreamFailureTests(FederationServer server)
{
    private sealed record Attempt(BrowserSession Browser, TestClient Client, string SignInUrl, Uri AuthorizeUrl);

    /// <summary>An app's /authorize, our sign-in page, the provider's button: returns the provider URL we were sent to.</summary>
    private async Task<Attempt> StartAsync(string scheme)
    {
        var client = await TestData.CreateClientAsync(server);
        var browser = new BrowserSession(server);
        var (_, challenge) = TestData.NewPkce();
        var signInPage = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge));
        var authorizeUrl = await FederatedFlow.ChooseProviderAsync(browser, signInPage, scheme);
        return new Attempt(browser, client, signInPage.RequestMessage!.RequestUri!.PathAndQuery, authorizeUrl);
    }

    /// <summary>The error page, its message, and that its way back leads to the sign-in page of the same request.</summary>
    private static async Task<string> AssertFriendlyErrorAsync(HttpResponseMessage page, string? backTo)
    {
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("/account/external-error", page.RequestMessage!.RequestUri!.AbsolutePath);
        var document = await BrowserSession.ReadPageAsync(page);
        if (backTo is not null)
        {
            Assert.Equal(backTo, document.QuerySelector("a.button")!.GetAttribute("href"));
        }

        return document.QuerySelector("[role=alert]")!.TextContent;
    }

    private async Task AssertNothingCreatedAsync(string scheme, StandInAccount account, Attempt attempt)
    {
        Assert.Null(await FederatedFlow.LinkedUserAsync(server, scheme, account));
        if (account.Email is not null)
        {
            Assert.Equal(0, await FederatedFlow.UsersWithEmailAsync(server, account.Email));
        }

        // Still not signed in: the app's request goes to the sign-in page again.
        var (_, challenge) = TestData.NewPkce();
        var again = await attempt.Browser.GetAsync(OAuthFlow.AuthorizeUrl(attempt.Client, challenge));
        Assert.Equal("/account/login", again.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task Cancelling_at_the_provider_shows_a_friendly_page_with_the_way_back_to_sign_in()
    {
        var account = server.StandIn.Add(StandInAccount.Google());
        var attempt = await StartAsync("Google");
        using var _ = attempt.Browser;

        var back = await FederatedFlow.AtProviderAsync(attempt.AuthorizeUrl, account: null, cancel: true);
        Assert.Equal("access_denied", QueryHelpers.ParseQuery(back.Query)["error"].ToString());
        var page = await attempt.Browser.GetAsync(back.ToString());

        var message = await AssertFriendlyErrorAsync(page, attempt.SignInUrl);
        Assert.Contains("Signing in with Google was cancelled", message, StringComparison.Ordinal);
        await AssertNothingCreatedAsync("Google", account, attempt);
    }

    [Fact]
    public async Task A_provider_error_in_the_redirect_shows_a_friendly_page()
    {
        var attempt = await StartAsync("GitHub");
        using var _ = attempt.Browser;
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var atProvider = await http.GetAsync(new Uri(attempt.AuthorizeUrl + "&error=temporarily_unavailable"));
        var page = await attempt.Browser.GetAsync(atProvider.Headers.Location!.ToString());

        Assert.Contains("GitHub could not sign you in", await AssertFriendlyErrorAsync(page, attempt.SignInUrl), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Google", StandInFailure.TokenError, "Google could not sign you in")]
    [InlineData("GitHub", StandInFailure.TokenError, "GitHub could not sign you in")]
    [InlineData("Discord", StandInFailure.TokenConnectionDrop, "We could not reach Discord")]
    [InlineData("Microsoft", StandInFailure.UserInfoServerError, "Microsoft could not sign you in")]
    [InlineData("Google", StandInFailure.UserInfoServerError, "Google could not sign you in")]
    [InlineData("Google", StandInFailure.UserInfoMalformed, "Google sent an answer we could not understand")]
    [InlineData("GitHub", StandInFailure.UserInfoMalformed, "GitHub sent an answer we could not understand")]
    public async Task Failures_after_the_redirect_back_show_a_friendly_page_and_create_no_user(string scheme, StandInFailure failure, string expected)
    {
        var account = server.StandIn.Add(scheme switch
        {
            "Google" => StandInAccount.Google(failure: failure),
            "GitHub" => StandInAccount.GitHubPrivateEmail(failure: failure),
            "Discord" => StandInAccount.Discord(failure: failure),
            _ => StandInAccount.MicrosoftWork(failure: failure),
        });
        var attempt = await StartAsync(scheme);
        using var _ = attempt.Browser;

        var back = await FederatedFlow.AtProviderAsync(attempt.AuthorizeUrl, account);
        var page = await attempt.Browser.GetAsync(back.ToString());

        Assert.Contains(expected, await AssertFriendlyErrorAsync(page, attempt.SignInUrl), StringComparison.Ordinal);
        await AssertNothingCreatedAsync(scheme, account, attempt);
    }

    [Fact]
    public async Task A_failure_while_storing_the_new_login_leaves_no_half_created_user()
    {
        var account = server.StandIn.Add(StandInAccount.Google());
        // The database refuses this one login row, after the user row was written in the same transaction.
        // DDL takes no parameters; the id is digits only.
        Assert.True(account.Id.All(char.IsAsciiDigit));
        var trigger = "refuse_login_" + account.Id;
        var create = "CREATE TRIGGER " + trigger + " BEFORE INSERT ON AspNetUserLogins WHEN NEW.ProviderKey = '" + account.Id
            + "' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END";
        var drop = "DROP TRIGGER " + trigger;
        await server.WithDatabaseAsync(db => db.Database.ExecuteSqlRawAsync(create));
        try
        {
            var attempt = await StartAsync("Google");
            using var _ = attempt.Browser;
            var page = await attempt.Browser.GetAsync((await FederatedFlow.AtProviderAsync(attempt.AuthorizeUrl, account)).ToString());

            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("nothing was saved", (await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]")!.TextContent, StringComparison.Ordinal);
            await AssertNothingCreatedAsync("Google", account, attempt);
        }
        finally
        {
            await server.WithDatabaseAsync(db => db.Database.ExecuteSqlRawAsync(drop));
        }
    }

    [Fact]
    public async Task A_tampered_state_is_rejected()
    {
        var account = server.StandIn.Add(StandInAccount.Google());
        var attempt = await StartAsync("Google");
        using var _ = attempt.Browser;
        var back = await FederatedFlow.AtProviderAsync(attempt.AuthorizeUrl, account);
        var query = QueryHelpers.ParseQuery(back.Query);
        var state = query["state"].ToString();
        var tampered = state[..^4] + (state[^4..] == "AAAA" ? "BBBB" : "AAAA");

        var page = await attempt.Browser.GetAsync(QueryHelpers.AddQueryString("/signin-google", new Dictionary<string, string?> { ["code"] = query["code"], ["state"] = tampered }));

        Assert.Contains("could not be verified", await AssertFriendlyErrorAsync(page, "/account/login"), StringComparison.Ordinal);
        await AssertNothingCreatedAsync("Google", account, attempt);
    }

    [Fact]
    public async Task A_valid_state_from_another_browser_is_rejected_because_the_correlation_cookie_is_missing()
    {
        // Login CSRF (RFC 6749 §10.12): an attacker's own code and state, delivered to the victim's browser.
        var account = server.StandIn.Add(StandInAccount.Google());
        var attacker = await StartAsync("Google");
        using var _ = attacker.Browser;
        var back = await FederatedFlow.AtProviderAsync(attacker.AuthorizeUrl, account);
        using var victim = new BrowserSession(server);

        var page = await victim.GetAsync(back.ToString());

        Assert.Contains("could not be verified", await AssertFriendlyErrorAsync(page, null), StringComparison.Ordinal);
        Assert.Null(await FederatedFlow.LinkedUserAsync(server, "Google", account));
    }

    [Fact]
    public async Task Replaying_the_redirect_back_does_not_sign_in_twice()
    {
        var account = server.StandIn.Add(StandInAccount.Google());
        var attempt = await StartAsync("Google");
        using var _ = attempt.Browser;
        var back = await FederatedFlow.AtProviderAsync(attempt.AuthorizeUrl, account);
        var first = await attempt.Browser.GetAsync(back.ToString());
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode); // to the app, with a code

        var replay = await attempt.Browser.GetAsync(back.ToString());

        await AssertFriendlyErrorAsync(replay, null);
        Assert.Equal(1, await server.WithDatabaseAsync(db => db.UserLogins.CountAsync(l => l.LoginProvider == "Google" && l.ProviderKey == account.Id)));
    }

    [Fact]
    public async Task Opening_the_callback_page_without_a_provider_answer_is_a_friendly_page()
    {
        using var browser = new BrowserSession(server);

        var page = await browser.GetAsync("/account/external-callback?returnUrl=%2Fconnect%2Fauthorize%3Fclient_id%3Dx");

        Assert.Contains("could not be verified", await AssertFriendlyErrorAsync(page, "/account/login?returnUrl=%2Fconnect%2Fauthorize%3Fclient_id%3Dx"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_provider_is_refused_on_the_sign_in_page()
    {
        using var browser = new BrowserSession(server);
        var signInPage = await browser.GetAsync("/account/login");

        var response = await browser.SubmitAsync(signInPage, new() { ["provider"] = "Facebook" }, formSelector: "form.providers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("not available", (await BrowserSession.ReadPageAsync(response)).QuerySelector("[role=alert]")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_error_page_never_offers_a_way_back_off_this_site()
    {
        using var browser = new BrowserSession(server);

        var page = await browser.GetAsync("/account/external-error?reason=Cancelled&provider=Google&back=https%3A%2F%2Fevil.example%2F");

        await AssertFriendlyErrorAsync(page, backTo: "/account/login");
    }
}
