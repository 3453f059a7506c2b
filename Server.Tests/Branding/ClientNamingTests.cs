using AngleSharp.Html.Dom;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Protocol;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Branding;

/// <summary>
/// The sign-in and registration pages of an authorization request name the app ("Sign in to continue to ...") with its
/// logo; the client_id comes from a URL anyone can write, so an unknown or disabled client shows nothing, and a logo is
/// shown only from https. The consent page shows the client's logo, its home page and the host it sends the person back to.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class ClientNamingTests(SqliteServer server)
{
    [Fact]
    public async Task The_sign_in_page_names_the_client_and_shows_its_https_logo()
    {
        var client = await ClientAsync(logoUri: "https://cdn.example/app-logo.png");
        using var browser = new BrowserSession(server);

        var page = await PageAsync(await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge)));

        var intro = page.QuerySelector(".signing-in-to");
        Assert.NotNull(intro);
        Assert.Equal($"Sign in to continue to Test app {client.ClientId}", Normalize(intro.TextContent));
        var logo = intro.QuerySelector("img.client-logo");
        Assert.NotNull(logo);
        Assert.Equal("https://cdn.example/app-logo.png", logo.GetAttribute("src"));
        Assert.Equal($"Test app {client.ClientId} logo", logo.GetAttribute("alt"));
    }

    [Fact]
    public async Task The_registration_page_names_the_client_too()
    {
        var client = await ClientAsync();
        using var browser = new BrowserSession(server);
        var returnUrl = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge);

        var page = await PageAsync(await browser.GetAsync("/account/register?returnUrl=" + Uri.EscapeDataString(returnUrl)));

        Assert.Equal($"Create an account to continue to Test app {client.ClientId}", Normalize(page.QuerySelector(".signing-in-to")?.TextContent));
    }

    [Fact]
    public async Task An_http_logo_is_not_shown_but_the_name_is()
    {
        var client = await ClientAsync(logoUri: "http://cdn.example/app-logo.png");
        using var browser = new BrowserSession(server);

        var page = await PageAsync(await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge)));

        Assert.NotNull(page.QuerySelector(".signing-in-to"));
        Assert.Null(page.QuerySelector("img.client-logo"));
        Assert.DoesNotContain("http://cdn.example", page.DocumentElement.OuterHtml, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-such-client")]
    [InlineData("<script>alert(1)</script>")]
    public async Task An_unknown_client_id_shows_nothing(string clientId)
    {
        using var browser = new BrowserSession(server);
        var returnUrl = "/connect/authorize?response_type=code&client_id=" + Uri.EscapeDataString(clientId) + "&scope=openid";

        var response = await browser.GetAsync("/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        var page = await PageAsync(response);

        Assert.Null(page.QuerySelector(".signing-in-to"));
        Assert.DoesNotContain("continue to", page.Body!.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disabled_client_shows_nothing()
    {
        var client = await ClientAsync();
        await server.WithDatabaseAsync(db => db.Applications.Where(a => a.ClientId == client.ClientId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Enabled, false)));
        using var browser = new BrowserSession(server);
        var returnUrl = AuthorizeRequests.Url(client, TestData.NewPkce().Challenge);

        var page = await PageAsync(await browser.GetAsync("/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl)));

        Assert.Null(page.QuerySelector(".signing-in-to"));
    }

    [Fact]
    public async Task The_consent_page_shows_the_logo_the_home_page_and_the_host_it_sends_back_to()
    {
        var client = await ClientAsync(consent: true, logoUri: "https://cdn.example/app-logo.png", clientUri: "https://app.example/about");
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);

        var response = await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge));
        Assert.True(AuthorizeRequests.IsConsentPage(response));
        var page = await PageAsync(response);

        Assert.Equal("https://cdn.example/app-logo.png", page.QuerySelector("img.client-logo")?.GetAttribute("src"));
        Assert.Equal("https://app.example/about", page.QuerySelector("a.client-uri")?.GetAttribute("href"));
        var redirect = page.QuerySelector(".redirect-host");
        Assert.NotNull(redirect);
        Assert.Equal(new Uri(client.RedirectUri).Host, redirect.QuerySelector("strong")?.TextContent);
        Assert.Contains("sent back to", redirect.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_consent_page_links_no_http_home_page_and_shows_no_http_logo()
    {
        var client = await ClientAsync(consent: true, logoUri: "http://cdn.example/app-logo.png", clientUri: "http://app.example/about");
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);

        var page = await PageAsync(await browser.GetAsync(AuthorizeRequests.Url(client, TestData.NewPkce().Challenge)));

        Assert.Null(page.QuerySelector("img.client-logo"));
        Assert.Null(page.QuerySelector("a.client-uri"));
        Assert.NotNull(page.QuerySelector(".redirect-host"));
    }

    private async Task<TestClient> ClientAsync(bool consent = false, string? logoUri = null, string? clientUri = null)
    {
        var client = await TestData.CreateClientAsync(server, consent: consent);
        await server.WithDatabaseAsync(db => db.Applications.Where(a => a.ClientId == client.ClientId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.LogoUri, logoUri).SetProperty(a => a.ClientUri, clientUri)));
        return client;
    }

    private static async Task<IHtmlDocument> PageAsync(HttpResponseMessage response)
    {
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return await BrowserSession.ReadPageAsync(response);
    }

    private static string Normalize(string? text) => string.Join(' ', (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
