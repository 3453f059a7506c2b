using System.Net;
using AngleSharp.Html.Dom;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>The admin pages, through forms as a browser submits them (antiforgery fields included).</summary>
[Collection(AdminServer.Name)]
public sealed class AdminPagesTests(SqliteServer server)
{
    [Fact]
    public async Task Anonymous_visitors_are_sent_to_sign_in_and_non_admins_are_turned_away()
    {
        using var anonymous = new BrowserSession(server);
        var response = await anonymous.GetAsync("/admin");
        Assert.Equal("/account/login", response.RequestMessage!.RequestUri!.AbsolutePath);

        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login"), user.UserName!);
        foreach (var path in Strings("/admin", "/admin/clients/new", "/admin/scopes", "/admin/audit", "/admin/api-reference"))
        {
            // Signed in, but not an admin: a 403 page that says so, not the sign-in form again.
            var page = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
            Assert.Equal("/account/access-denied", page.RequestMessage!.RequestUri!.AbsolutePath);
            var html = await page.Content.ReadAsStringAsync();
            Assert.DoesNotContain("Identity admin", html, StringComparison.Ordinal);
            Assert.Contains(user.UserName!, html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_admin_registers_a_client_sees_its_secret_once_and_disables_it()
    {
        using var browser = await SignedInAdminAsync();
        var clientId = "page-" + Guid.NewGuid().ToString("N")[..8];
        var form = await browser.GetAsync("/admin/clients/new");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);

        var created = await browser.SubmitAsync(form, new()
        {
            ["Form.ClientId"] = clientId,
            ["Form.DisplayName"] = "Made on a page",
            ["Form.RedirectUris"] = "https://page.example.com/cb\nhttp://127.0.0.1:5173/cb",
            ["Form.Scopes"] = "openid profile",
        });

        var page = await BrowserSession.ReadPageAsync(created);
        var secret = page.QuerySelector("#client-secret")?.TextContent.Trim();
        Assert.False(string.IsNullOrEmpty(secret), page.Body?.TextContent);
        Assert.Equal("no-store", created.Headers.CacheControl?.ToString());
        var row = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        Assert.Equal(ClientSecrets.Hash(secret), row.ClientSecretHash);
        var descriptor = ClientDescriptor.From(row);
        Assert.Equal(Strings("http://127.0.0.1:5173/cb", "https://page.example.com/cb"), descriptor.RedirectUris.Order(StringComparer.Ordinal));
        Assert.True(descriptor.RequiresConsent);

        // The client's page never shows the secret again.
        var edit = await browser.GetAsync($"/admin/clients/{clientId}");
        var editHtml = await edit.Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, editHtml, StringComparison.Ordinal);
        Assert.Contains("Made on a page", editHtml, StringComparison.Ordinal);

        var disabled = await browser.SubmitAsync(edit, [], formSelector: "form[action*='handler=Disable']");
        Assert.Contains("The client is disabled", await disabled.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await server.WithDatabaseAsync(db => db.Applications.Where(a => a.ClientId == clientId).Select(a => a.Enabled).SingleAsync()));
    }

    [Fact]
    public async Task The_form_shows_the_validation_error_and_keeps_what_was_typed()
    {
        using var browser = await SignedInAdminAsync();
        var form = await browser.GetAsync("/admin/clients/new");

        var answer = await browser.SubmitAsync(form, new()
        {
            ["Form.ClientId"] = "page-bad",
            ["Form.RedirectUris"] = "http://page.example.com/cb",
        });

        var page = await BrowserSession.ReadPageAsync(answer);
        Assert.Contains("invalid_redirect_uri", page.QuerySelector("#error")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("http://page.example.com/cb", ((IHtmlTextAreaElement)page.QuerySelector("textarea[name='Form.RedirectUris']")!).Value.Trim());
        Assert.False(await server.WithDatabaseAsync(db => db.Applications.AnyAsync(a => a.ClientId == "page-bad")));
    }

    [Fact]
    public async Task Forms_without_the_antiforgery_token_are_refused()
    {
        using var browser = await SignedInAdminAsync();

        var response = await browser.Http.PostAsync(new Uri("/admin/clients/new", UriKind.Relative),
            new FormUrlEncodedContent([new("Form.ClientId", "csrf-" + Guid.NewGuid().ToString("N")[..8]), new("Form.RedirectUris", "https://csrf.example.com/cb")]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_admin_creates_a_scope_and_revokes_a_grant_from_the_pages()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        using var browser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/admin"), admin.UserName!);
        var scopeName = "pages-" + Guid.NewGuid().ToString("N")[..8];
        var scopes = await browser.GetAsync("/admin/scopes");
        var created = await browser.SubmitAsync(scopes, new() { ["Form.Name"] = scopeName, ["Form.Resources"] = "https://pages.example.com" });
        var createdText = (await BrowserSession.ReadPageAsync(created)).Body!.TextContent;
        Assert.True(createdText.Contains($"The scope '{scopeName}' was created", StringComparison.Ordinal), createdText);

        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using (var person = new BrowserSession(server))
        {
            await OAuthFlow.AuthorizeAsync(person, client, user.UserName!, TestData.NewPkce().Challenge);
        }

        var edit = await browser.GetAsync($"/admin/clients/{client.ClientId}");
        Assert.Contains(user.UserName!, await edit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var revoked = await browser.SubmitAsync(edit, [], formSelector: "form[action*='handler=RevokeGrant']");
        Assert.Contains("The grant was revoked", await revoked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await server.WithDatabaseAsync(db => db.Authorizations.AnyAsync(a => a.ApplicationId == client.ApplicationId && a.Status == "valid")));

        // This admin's changes (the test clock stands still, so the whole log's first page is in no useful order).
        var audit = await browser.GetAsync($"/admin/audit?kind=admin&user={admin.UserName}");
        Assert.Contains("client.grant_revoked", await audit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_opens_the_interactive_api_reference_of_the_openapi_description()
    {
        using var browser = await SignedInAdminAsync();

        var page = await browser.GetAsync("/admin/api-reference");

        Assert.True(page.StatusCode == HttpStatusCode.OK, page.RequestMessage!.RequestUri + " " + await page.Content.ReadAsStringAsync());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("openapi/v1.json", html, StringComparison.Ordinal);
        // Its one inline script runs by the nonce the page's policy names, fresh at every request.
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        var nonce = System.Text.RegularExpressions.Regex.Match(policy, "'nonce-([^']+)'").Groups[1].Value;
        Assert.True(nonce.Length >= 16, policy);
        Assert.Contains($"nonce=\"{nonce}\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy.Split(';').Single(d => d.Trim().StartsWith("script-src", StringComparison.Ordinal)), StringComparison.Ordinal);
        var again = await browser.GetAsync("/admin/api-reference/");
        Assert.DoesNotContain(nonce, again.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        // The description it shows.
        var description = await browser.GetAsync("/openapi/v1.json");
        Assert.Contains("/admin/api/clients", await description.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<BrowserSession> SignedInAdminAsync()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        var browser = new BrowserSession(server);
        var home = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/admin"), admin.UserName!);
        Assert.Equal("/admin", home.RequestMessage!.RequestUri!.AbsolutePath);
        return browser;
    }
}
