using System.Net;
using System.Net.Http.Headers;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Branding;

/// <summary>A host with every Branding setting given.</summary>
public sealed class BrandedServer : ServerFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Branding:ProductName"] = "Acme <ID>",
        ["Branding:LogoUrl"] = "/brand/acme.svg",
        ["Branding:PrimaryColor"] = "#FFEB3B",
        ["Branding:SupportUrl"] = "https://help.acme.example/",
        ["Branding:SupportEmail"] = "help@acme.example",
    };
}

/// <summary>
/// The configured product name, logo and support contacts in the pages' title, header and footer, and the colour as
/// /branding.css (custom properties only, the text colour chosen for contrast), cached and revalidated by ETag.
/// </summary>
public sealed class BrandedPagesTests(BrandedServer server) : IClassFixture<BrandedServer>
{
    [Fact]
    public async Task The_sign_in_page_carries_the_product_name_logo_colours_and_support_links()
    {
        using var browser = new BrowserSession(server);
        var page = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account/login"));

        Assert.Equal("Sign in · Acme <ID>", page.Title);
        Assert.Equal("Acme <ID>", page.QuerySelector("header.brand .brand-name")?.TextContent);
        Assert.Equal("/brand/acme.svg", page.QuerySelector("header.brand img.brand-logo")?.GetAttribute("src"));
        var stylesheets = page.QuerySelectorAll("link[rel=stylesheet]").Select(l => l.GetAttribute("href")!).ToArray();
        Assert.Contains("/site.css", stylesheets);
        Assert.Contains(stylesheets, href => href.StartsWith("/branding.css?v=", StringComparison.Ordinal));
        var footer = page.QuerySelector("footer.brand-footer");
        Assert.NotNull(footer);
        var links = footer.QuerySelectorAll("a").Select(a => a.GetAttribute("href") ?? "").ToArray();
        Assert.Equal<string[]>(["https://help.acme.example/", "mailto:help@acme.example"], links);
    }

    [Fact]
    public async Task The_admin_pages_carry_the_product_name()
    {
        var admin = await IdentityServer.Tests.Admin.AdminApi.CreateAdminAsync(server);
        using var browser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login"), admin.UserName!);

        var page = await BrowserSession.ReadPageAsync(await browser.GetAsync("/admin"));

        Assert.EndsWith(" · Admin · Acme <ID>", page.Title, StringComparison.Ordinal);
        Assert.Equal("Acme <ID> admin", page.QuerySelector("header.admin-nav .admin-brand")?.TextContent);
        Assert.NotNull(page.QuerySelector("link[href^='/branding.css?v=']"));
    }

    [Fact]
    public async Task The_stylesheet_sets_the_colour_and_a_readable_text_colour_and_is_cached_by_etag()
    {
        using var http = server.CreateClient();
        var response = await http.GetAsync("/branding.css");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(":root { --brand-primary: #ffeb3b; --brand-on-primary: #000000; }\n", await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.CacheControl?.Public);
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);

        using var again = new HttpRequestMessage(HttpMethod.Get, "/branding.css");
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag.Tag));
        var notModified = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_site_stylesheet_reads_the_brand_colours_with_defaults()
    {
        using var http = server.CreateClient();
        var css = await http.GetStringAsync("/site.css");

        Assert.Contains("var(--brand-primary, #2f5fd0)", css, StringComparison.Ordinal);
        Assert.Contains("var(--brand-on-primary, white)", css, StringComparison.Ordinal);
    }
}

/// <summary>Without a Branding section the pages look as before: the default name, no logo, no colour stylesheet, no footer.</summary>
[Collection(IdentityServer.Tests.Protocol.SharedProtocolServer.Name)]
public sealed class DefaultBrandingTests(SqliteServer server)
{
    [Fact]
    public async Task The_default_name_and_nothing_else()
    {
        using var browser = new BrowserSession(server);
        var page = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account/login"));

        Assert.Equal("Sign in · Identity", page.Title);
        Assert.Equal("Identity", page.QuerySelector("header.brand .brand-name")?.TextContent);
        Assert.Null(page.QuerySelector("img.brand-logo"));
        Assert.Null(page.QuerySelector("link[href^='/branding.css']"));
        Assert.Null(page.QuerySelector("footer.brand-footer"));
    }
}
