using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// A host with registration turned off and only Google configured. (A provider with a client id and no secret stops
/// startup: StartupProcessTests.)
/// </summary>
public sealed class RegistrationClosedServer : ServerFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Accounts:AllowRegistration"] = "false",
        ["Authentication:Google:ClientId"] = "google-client",
        ["Authentication:Google:ClientSecret"] = "google-secret",
    };
}

/// <summary>Settings decide what the sign-in page offers: only configured providers; registration can be off.</summary>
public sealed class ConfigurationTests(RegistrationClosedServer server) : IClassFixture<RegistrationClosedServer>
{
    [Fact]
    public async Task Only_configured_providers_are_offered()
    {
        using var browser = new BrowserSession(server);
        var page = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account/login"));

        Assert.Equal(["Google"], page.QuerySelectorAll("form.providers button[name=provider]").Select(b => b.GetAttribute("value")!).ToArray());
    }

    [Fact]
    public async Task With_registration_off_there_is_no_link_and_no_page()
    {
        using var browser = new BrowserSession(server);
        var signInPage = await browser.GetAsync("/account/login");
        var get = await browser.GetAsync("/account/register");
        // A well-formed registration POST (with a valid antiforgery token) still finds no page.
        var post = await browser.SubmitAsync(signInPage, new()
        {
            ["UserName"] = "nobody",
            ["Email"] = "nobody@example.org",
            ["Password"] = TestData.Password,
            ["ConfirmPassword"] = TestData.Password,
        }, requestPath: "/account/register", formSelector: "form:not([action])");

        Assert.Null((await BrowserSession.ReadPageAsync(signInPage)).QuerySelector("a[href^='/account/register']"));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
    }
}
