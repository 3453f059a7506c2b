using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Admin;

/// <summary>The Users admin pages, through forms as a browser submits them (antiforgery fields included).</summary>
[Collection(AdminServer.Name)]
public sealed class AdminUserPagesTests(SqliteServer server)
{
    [Fact]
    public async Task Non_admins_cannot_see_the_users_pages()
    {
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login"), user.UserName!);

        foreach (var path in new[] { "/admin/users", "/admin/users/" + user.Id })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task An_admin_searches_users_and_pages_through_them()
    {
        using var browser = await SignedInAdminAsync();
        var tag = "pp" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 52; i++)
        {
            await TestData.CreateUserAsync(server, $"{tag}{i:D2}");
        }

        var first = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/users?q={tag}"));
        var names = first.QuerySelectorAll("tbody tr td:first-child a").Select(a => a.TextContent).ToList();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{tag}{i:D2}"), names);
        var next = first.QuerySelector("a[rel='next']")!.GetAttribute("href")!;

        var second = await BrowserSession.ReadPageAsync(await browser.GetAsync(next));
        Assert.Equal(new[] { tag + "50", tag + "51" }, second.QuerySelectorAll("tbody tr td:first-child a").Select(a => a.TextContent));
        Assert.Null(second.QuerySelector("a[rel='next']"));
        Assert.Contains("No user matches", (await BrowserSession.ReadPageAsync(await browser.GetAsync("/admin/users?q=nobody-" + tag))).Body!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_edits_a_profile_roles_and_claims_and_disables_enables_and_deletes_a_user()
    {
        using var browser = await SignedInAdminAsync();
        var user = await TestData.CreateUserAsync(server);
        var path = "/admin/users/" + user.Id;
        var page = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(user.UserName!, await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        page = await browser.SubmitAsync(page, new()
        {
            ["Profile.UserName"] = user.UserName!,
            ["Profile.Name"] = "Paged Person",
            ["Profile.Email"] = "paged-" + user.Email,
            ["Profile.MarkEmailVerified"] = "false",
        }, formSelector: "form[action*='handler=Profile']");
        Assert.Contains("The profile was saved", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var row = await server.WithDatabaseAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.Id));
        Assert.Equal(("Paged Person", "paged-" + user.Email, false), (row.Name, row.Email, row.EmailConfirmed));

        page = await browser.SubmitAsync(page, new() { ["Roles"] = "editor reviewer" }, formSelector: "form[action*='handler=Roles']");
        Assert.Contains("The roles were saved", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        page = await browser.SubmitAsync(page, new() { ["claimType"] = "sub", ["claimValue"] = "x" }, formSelector: "form[action*='handler=AddClaim']");
        var refused = await BrowserSession.ReadPageAsync(page);
        Assert.Contains("protocol claim", refused.QuerySelector("#error")!.TextContent, StringComparison.Ordinal);
        page = await browser.SubmitAsync(page, new() { ["claimType"] = "department", ["claimValue"] = "sales" }, formSelector: "form[action*='handler=AddClaim']");
        var added = await BrowserSession.ReadPageAsync(page);
        Assert.True(added.Body!.TextContent.Contains("The claim 'department' was added", StringComparison.Ordinal), added.QuerySelector("#error")?.TextContent ?? added.Body.TextContent[..500]);
        await server.WithDatabaseAsync(async db =>
        {
            Assert.Equal(2, await db.UserRoles.CountAsync(r => r.UserId == user.Id));
            Assert.Equal("sales", await db.UserClaims.Where(c => c.UserId == user.Id).Select(c => c.ClaimValue).SingleAsync());
        });
        page = await browser.SubmitAsync(page, [], formSelector: "form[action*='handler=RemoveClaim']");
        Assert.False(await server.WithDatabaseAsync(db => db.UserClaims.AnyAsync(c => c.UserId == user.Id)));

        page = await browser.SubmitAsync(page, [], formSelector: "form[action*='handler=Disable']");
        Assert.Contains("The account is disabled", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        page = await browser.SubmitAsync(page, [], formSelector: "form[action*='handler=Enable']");
        Assert.Contains("The account is enabled", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        page = await browser.SubmitAsync(page, [], formSelector: "form[action*='handler=ResetPassword']");
        Assert.NotNull(await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.PasswordChangeRequiredAt).SingleAsync()));

        var deleted = await browser.SubmitAsync(page, [], formSelector: "form[action*='handler=Delete']");
        Assert.Equal("/admin/users", deleted.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.False(await server.WithDatabaseAsync(db => db.Users.AnyAsync(u => u.Id == user.Id)));
        var actions = await server.WithDatabaseAsync(db => db.AuditEntries.Where(e => e.Target == "user:" + user.Id).Select(e => e.Action).ToListAsync());
        Assert.Superset(new HashSet<string> { "user.updated", "user.role_added", "user.claim_added", "user.claim_removed", "user.disabled", "user.enabled",
            "user.password_reset_required", "user.deleted" }, actions.ToHashSet());
    }

    [Fact]
    public async Task A_missing_user_is_a_404_page_and_forms_need_the_antiforgery_token()
    {
        using var browser = await SignedInAdminAsync();
        var missing = await browser.GetAsync("/admin/users/no-such-user");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("No such user", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var user = await TestData.CreateUserAsync(server);
        var forged = await browser.Http.PostAsync(new Uri($"/admin/users/{user.Id}?handler=Delete", UriKind.Relative),
            new FormUrlEncodedContent([new("confirm", "true")]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.True(await server.WithDatabaseAsync(db => db.Users.AnyAsync(u => u.Id == user.Id)));
    }

    private async Task<BrowserSession> SignedInAdminAsync()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        var browser = new BrowserSession(server);
        var home = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/admin/users"), admin.UserName!);
        Assert.Equal("/admin/users", home.RequestMessage!.RequestUri!.AbsolutePath);
        return browser;
    }
}
