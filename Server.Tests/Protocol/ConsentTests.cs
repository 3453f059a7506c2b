using System.Net;
using AngleSharp.Html.Dom;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// The consent step for third-party (explicit-consent) clients: the page names the client and the scopes in plain
/// words; Allow is remembered for the same or fewer scopes, and reused only for clients that authenticate (a public
/// client is asked every time); Deny is access_denied; the form is CSRF-protected.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class ConsentTests(SqliteServer server)
{
    [Fact]
    public async Task Allow_after_a_page_naming_the_client_and_the_scopes_issues_a_code()
    {
        var (client, browser) = await SignedInAsync();
        using var _ = browser;
        var (verifier, challenge) = TestData.NewPkce();
        var url = AuthorizeRequests.Url(client, challenge, [("scope", "openid profile email")]);

        var page = await browser.GetAsync(url);
        Assert.True(AuthorizeRequests.IsConsentPage(page));
        var text = (await BrowserSession.ReadPageAsync(page)).Body!.TextContent;
        Assert.Contains("Test app " + client.ClientId, text, StringComparison.Ordinal);
        Assert.Contains("Your profile", text, StringComparison.Ordinal);
        Assert.Contains("Your email address", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Stay connected", text, StringComparison.Ordinal); // offline_access was not asked for

        var callback = OAuthFlow.CallbackParameters(await browser.SubmitAsync(page, [], pressButtonValue: "allow"), client);
        Assert.Equal(AuthorizeRequests.Parameter(url, "state"), callback["state"]);
        Assert.Equal(ServerFactory.Issuer, callback["iss"]);
        TokenEndpointTests.AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier), "openid profile email");
    }

    [Fact]
    public async Task Deny_is_access_denied_and_nothing_is_remembered()
    {
        var (client, browser) = await SignedInAsync();
        using var _ = browser;
        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge);

        var page = await browser.GetAsync(url);
        Assert.True(AuthorizeRequests.IsConsentPage(page));
        var denied = await browser.SubmitAsync(page, [], pressButtonValue: "deny");
        AuthorizeRequests.AssertErrorRedirect(denied, client, "access_denied", AuthorizeRequests.Parameter(url, "state"));

        Assert.True(AuthorizeRequests.IsConsentPage(await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge))));
    }

    [Fact]
    public async Task Consent_is_remembered_for_the_same_or_fewer_scopes_even_in_a_new_session()
    {
        var (client, browser, userName) = await SignedInWithUserAsync();
        using var _ = browser;
        var (_, challenge) = TestData.NewPkce();
        await AllowAsync(browser, client, AuthorizeRequests.Url(client, challenge, [("scope", "openid profile email")]));

        var same = await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [("scope", "openid profile email")]));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(same, client)["code"]));
        var fewer = await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [("scope", "openid email")]));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(fewer, client)["code"]));

        // Consent belongs to the person, not to one sign-in.
        using var otherBrowser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(otherBrowser, userName);
        var elsewhere = await otherBrowser.GetAsync(AuthorizeRequests.Url(client, challenge, [("scope", "openid profile")]));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(elsewhere, client)["code"]));
    }

    [Fact]
    public async Task More_scopes_ask_again_and_allowing_them_extends_the_consent()
    {
        var (client, browser) = await SignedInAsync();
        using var _ = browser;
        var (_, challenge) = TestData.NewPkce();
        await AllowAsync(browser, client, AuthorizeRequests.Url(client, challenge, [("scope", "openid profile")]));

        var more = await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [("scope", "openid profile email")]));
        Assert.True(AuthorizeRequests.IsConsentPage(more), "a request for more scopes must ask again");
        Assert.Contains("Your email address", (await BrowserSession.ReadPageAsync(more)).Body!.TextContent, StringComparison.Ordinal);
        OAuthFlow.CallbackParameters(await browser.SubmitAsync(more, [], pressButtonValue: "allow"), client);

        var union = await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [("scope", "openid profile email")]));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(union, client)["code"]));
    }

    [Fact]
    public async Task Prompt_consent_asks_even_when_consent_was_given()
    {
        var (client, browser) = await SignedInAsync();
        using var _ = browser;
        var (_, challenge) = TestData.NewPkce();
        await AllowAsync(browser, client, AuthorizeRequests.Url(client, challenge));

        var page = await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [("prompt", "consent")]));
        Assert.True(AuthorizeRequests.IsConsentPage(page));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(await browser.SubmitAsync(page, [], pressButtonValue: "allow"), client)["code"]));
    }

    [Fact]
    public async Task A_first_party_client_never_shows_the_consent_page()
    {
        var client = await TestData.CreateClientAsync(server, consent: false);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);

        var response = await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("scope", "openid profile email")]));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(response, client)["code"]));
    }

    [Fact]
    public async Task A_public_client_is_asked_again_even_after_the_person_allowed_it()
    {
        // RFC 8252 §8.6: anyone can send a public client's client_id and redirect_uri; remembered consent is not proof.
        var (client, browser) = await SignedInAsync(confidential: false);
        using var _ = browser;
        var (verifier, challenge) = TestData.NewPkce();
        var page = await browser.GetAsync(AuthorizeRequests.Url(client, challenge));
        Assert.True(AuthorizeRequests.IsConsentPage(page));
        var callback = OAuthFlow.CallbackParameters(await browser.SubmitAsync(page, [], pressButtonValue: "allow"), client);
        TokenEndpointTests.AssertTokenResponse(await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier), "openid profile");

        var again = await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge));
        Assert.True(AuthorizeRequests.IsConsentPage(again), "remembered consent must not answer a public client's request silently");
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(await browser.SubmitAsync(again, [], pressButtonValue: "allow"), client)["code"]));
    }

    [Fact]
    public async Task Prompt_none_for_a_public_client_with_only_remembered_consent_is_consent_required()
    {
        var (client, browser) = await SignedInAsync(confidential: false);
        using var _ = browser;
        await AllowAsync(browser, client, AuthorizeRequests.Url(client, TestData.NewPkce().Challenge));

        var url = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("prompt", "none")]);
        AuthorizeRequests.AssertErrorRedirect(await browser.GetAsync(url), client, "consent_required", AuthorizeRequests.Parameter(url, "state"));
    }

    [Fact]
    public async Task A_confidential_client_with_remembered_consent_passes_prompt_none()
    {
        var (client, browser) = await SignedInAsync();
        using var _ = browser;
        await AllowAsync(browser, client, AuthorizeRequests.Url(client, TestData.NewPkce().Challenge));

        var silent = await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("prompt", "none")]));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(silent, client)["code"]));
    }

    [Fact]
    public async Task A_first_party_public_client_is_never_asked_and_passes_prompt_none()
    {
        var client = await TestData.CreateClientAsync(server, confidential: false, consent: false);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);

        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge)), client)["code"]));
        var silent = await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("prompt", "none")]));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(silent, client)["code"]));
    }

    [Fact]
    public async Task Allowing_after_the_session_outgrew_max_age_signs_in_again_instead_of_issuing_a_code()
    {
        // The page answers its own request, but never past a check /authorize would make now (Core §3.1.2.1 max_age).
        var (client, browser) = await SignedInAsync(confidential: false);
        using var _ = browser;
        var page = await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge, [("max_age", "300")]));
        Assert.True(AuthorizeRequests.IsConsentPage(page));

        server.Time.Advance(TimeSpan.FromMinutes(6));
        var answer = await browser.SubmitAsync(page, [], pressButtonValue: "allow");

        Assert.True(AuthorizeRequests.IsLoginPage(answer), "a session older than max_age must sign in again");
    }

    [Fact]
    public async Task The_consent_form_posted_without_its_antiforgery_token_is_refused()
    {
        var (client, browser) = await SignedInAsync();
        using var _ = browser;
        var (_, challenge) = TestData.NewPkce();
        var page = await browser.GetAsync(AuthorizeRequests.Url(client, challenge));
        Assert.True(AuthorizeRequests.IsConsentPage(page));
        var form = (await BrowserSession.ReadPageAsync(page)).Forms[0];
        var fields = form.Elements.OfType<IHtmlInputElement>().Where(i => !string.IsNullOrEmpty(i.Name))
            .Select(i => new KeyValuePair<string, string>(i.Name!, i.Value)).ToList();
        Assert.Contains(fields, f => f.Key == "__RequestVerificationToken");

        // What a cross-site page could send: the same fields (the browser would even attach the cookies), but no token.
        var forged = fields.Where(f => f.Key != "__RequestVerificationToken").Append(new("decision", "allow"));
        var response = await browser.Http.PostAsync(page.RequestMessage!.RequestUri, new FormUrlEncodedContent(forged));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);

        // Nothing was remembered: the page comes again, and the real form still works.
        page = await browser.GetAsync(AuthorizeRequests.Url(client, challenge));
        Assert.True(AuthorizeRequests.IsConsentPage(page));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(await browser.SubmitAsync(page, [], pressButtonValue: "allow"), client)["code"]));
    }

    private static async Task AllowAsync(BrowserSession browser, TestClient client, string url)
    {
        var page = await browser.GetAsync(url);
        Assert.True(AuthorizeRequests.IsConsentPage(page));
        Assert.False(string.IsNullOrEmpty(OAuthFlow.CallbackParameters(await browser.SubmitAsync(page, [], pressButtonValue: "allow"), client)["code"]));
    }

    private async Task<(TestClient Client, BrowserSession Browser)> SignedInAsync(bool confidential = true)
    {
        var (client, browser, _) = await SignedInWithUserAsync(confidential);
        return (client, browser);
    }

    private async Task<(TestClient Client, BrowserSession Browser, string UserName)> SignedInWithUserAsync(bool confidential = true)
    {
        var client = await TestData.CreateClientAsync(server, confidential: confidential, consent: true);
        var user = await TestData.CreateUserAsync(server);
        var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        return (client, browser, user.UserName!);
    }
}
