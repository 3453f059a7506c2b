using System.Net;
using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Security.Hostile;

namespace IdentityServer.Tests.Security;

/// <summary>
/// The headers every answer carries (no sniffing, no referrer, no framing), and on every page a Content-Security-Policy
/// without inline script that forbids framing; the session and antiforgery cookies HttpOnly, Secure (an https issuer)
/// and SameSite.
/// </summary>
[Collection(SharedSecurityServer.Name)]
public sealed class SecurityHeadersTests(SecurityServer server)
{
    [Theory]
    [InlineData("/account/login", HttpStatusCode.OK)]
    [InlineData("/account/login?returnUrl=%2Fconnect%2Fauthorize%3Fclient_id%3Dx", HttpStatusCode.OK)]
    [InlineData("/account/register", HttpStatusCode.OK)]
    [InlineData("/account/logout", HttpStatusCode.OK)]
    [InlineData("/account/logout?signedOut=true", HttpStatusCode.OK)]
    [InlineData("/account/external-error", HttpStatusCode.OK)]
    [InlineData("/consent", HttpStatusCode.OK)]
    [InlineData("/", HttpStatusCode.OK)]
    [InlineData("/connect/authorize", HttpStatusCode.BadRequest)]
    [InlineData("/connect/endsession?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F", HttpStatusCode.BadRequest)]
    [InlineData("/no-such-page", HttpStatusCode.NotFound)]
    public async Task Pages_for_people_carry_the_policy(string url, HttpStatusCode status)
    {
        using var http = CreateClient(server);
        using var response = await http.GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(status, response.StatusCode);
        AssertPageHeaders(response);
    }

    [Fact]
    public async Task Pages_of_a_signed_in_person_carry_the_policy()
    {
        var world = await server.WorldAsync();
        using var http = CreateClient(server);
        var probe = new Probe(server, world, http);
        await probe.SignInAsync();

        foreach (var url in new[] { "/account/devices", "/account/logins", "/consent?returnUrl=%2Fconnect%2Fauthorize%3Fclient_id%3Dx" })
        {
            using var response = await http.GetAsync(new Uri(url, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            AssertPageHeaders(response);
        }
    }

    [Fact]
    public async Task The_admin_pages_carry_the_policy()
    {
        var world = await server.WorldAsync();
        var admin = await TestData.CreateUserAsync(server);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var granted = await scope.ServiceProvider.GetRequiredService<UserAdminService>().GrantAdminAsync(admin.Id, AdminActor.CommandLine, CancellationToken.None);
            Assert.Equal(AdminOutcome.Ok, granted.Outcome);
        }

        using var http = CreateClient(server);
        var probe = new Probe(server, world with { User = admin }, http);
        await probe.SignInAsync();

        foreach (var url in new[] { "/admin", "/admin/audit", "/admin/scopes", "/admin/clients/new", $"/admin/clients/{world.Confidential.ClientId}" })
        {
            using var response = await http.GetAsync(new Uri(url, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode}");
            AssertPageHeaders(response);
        }
    }

    [Fact]
    public async Task The_form_post_page_has_its_own_policy_allowing_only_its_hashed_script()
    {
        var world = await server.WorldAsync();
        using var browser = new BrowserSession(server);
        var (_, challenge) = TestData.NewPkce();
        using var response = await browser.GetAsync(OAuthFlow.AuthorizeUrl(world.Confidential, challenge, extra: ("response_mode", "form_post")));
        using var page = await OAuthFlow.SignInAsync(browser, response, world.User.UserName!);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("name=\"code\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var policy = AssertPageHeaders(page);
        Assert.Contains("script-src 'sha256-", policy, StringComparison.Ordinal);
        Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
    }

    [Theory]
    [InlineData("/.well-known/openid-configuration")]
    [InlineData("/.well-known/jwks")]
    [InlineData("/connect/userinfo")]
    [InlineData("/health/live")]
    public async Task Machine_answers_carry_the_common_headers(string url)
    {
        using var http = CreateClient(server);
        using var response = await http.GetAsync(new Uri(url, UriKind.Relative));

        AssertCommonHeaders(response);
    }

    [Fact]
    public async Task Token_endpoint_errors_carry_the_common_headers_and_no_store()
    {
        using var http = CreateClient(server);
        using var response = await http.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent([new("grant_type", "client_credentials")]));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        AssertCommonHeaders(response);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Session_and_antiforgery_cookies_are_HttpOnly_Secure_and_SameSite()
    {
        var world = await server.WorldAsync();
        using var http = server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost/"), HandleCookies = false });

        using var page = await http.GetAsync(new Uri("/account/login", UriKind.Relative));
        var antiforgery = Assert.Single(page.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        AssertCookieFlags(antiforgery, "strict");

        var token = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent([new("Username", world.User.UserName!), new("Password", TestData.Password), new("__RequestVerificationToken", token)]),
        };
        request.Headers.Add("Cookie", antiforgery.Split(';')[0]);
        using var signedIn = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        // The __Host- prefix over https: the browser takes it only from this host, Secure, for path /, without Domain.
        var session = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("__Host-idsrv.session=", StringComparison.Ordinal));
        // Lax, not Strict: the cookie must come along when an app sends the browser to /connect/authorize.
        AssertCookieFlags(session, "lax");
        Assert.Contains("path=/;", session + ";", StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain=", session, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task HTTPS_answers_outside_Development_carry_HSTS()
    {
        using var http = CreateClient(server);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
        // The framework leaves loopback names out of HSTS; the issuer's host is what browsers see.
        request.Headers.Host = new Uri(ServerFactory.Issuer).Host;
        using var response = await http.SendAsync(request);

        var hsts = Assert.Single(response.Headers.GetValues("Strict-Transport-Security"));
        Assert.Matches("^max-age=[1-9][0-9]{6,}", hsts);
    }

    private static void AssertCookieFlags(string cookie, string sameSite)
    {
        var attributes = cookie.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant()).ToList();
        Assert.Contains("httponly", attributes);
        Assert.Contains("secure", attributes);
        Assert.Contains("samesite=" + sameSite, attributes);
    }

    /// <summary>The common headers, and a policy that allows no inline script and no framing; returns the policy.</summary>
    private static string AssertPageHeaders(HttpResponseMessage response)
    {
        AssertCommonHeaders(response);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        var directives = policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d);
        Assert.Equal("frame-ancestors 'none'", directives["frame-ancestors"]);
        Assert.Equal("base-uri 'none'", directives["base-uri"]);
        var scripts = directives.TryGetValue("script-src", out var scriptSrc) ? scriptSrc : directives["default-src"];
        Assert.DoesNotContain("'unsafe-inline'", scripts, StringComparison.Ordinal);
        Assert.DoesNotContain("'unsafe-eval'", scripts, StringComparison.Ordinal);
        Assert.DoesNotContain("*", scripts, StringComparison.Ordinal);
        return policy;
    }

    private static void AssertCommonHeaders(HttpResponseMessage response)
    {
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
    }
}
