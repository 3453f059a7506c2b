using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using IdentityServer.Admin;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>User administration through the admin API: every action over HTTP, with its effects in the database and the protocol.</summary>
[Collection(AdminServer.Name)]
public sealed class AdminUsersApiTests(SqliteServer server)
{
    [Fact]
    public async Task Users_are_searched_by_name_or_email_and_paged_in_a_stable_order()
    {
        var api = await AdminApi.SharedAsync(server);
        var tag = "pg" + Guid.NewGuid().ToString("N")[..8];
        foreach (var suffix in Strings("c", "a", "b"))
        {
            await TestData.CreateUserAsync(server, tag + suffix);
        }

        var first = await api.GetAsync($"/admin/api/users?q={tag.ToUpperInvariant()}&limit=2");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(Strings(tag + "a", tag + "b"), Names(first.Body));
        var cursor = first.Body.GetProperty("next_cursor").GetString()!;
        Assert.Contains("rel=\"next\"", first.Response.Headers.GetValues("Link").Single(), StringComparison.Ordinal);

        var second = await api.GetAsync($"/admin/api/users?q={tag}&limit=2&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal(Strings(tag + "c"), Names(second.Body));
        Assert.Equal(JsonValueKind.Null, second.Body.GetProperty("next_cursor").ValueKind);

        // By email as well (the test users' address is <name>@example.com).
        var byEmail = await api.GetAsync($"/admin/api/users?q={tag}b@EXAMPLE");
        Assert.Equal(Strings(tag + "b"), Names(byEmail.Body));
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync("/admin/api/users?limit=0")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync("/admin/api/users?limit=201")).Status);
    }

    [Fact]
    public async Task A_users_page_shows_logins_sessions_apps_with_grants_claims_and_audit()
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            Assert.True((await users.AddLoginAsync((await users.FindByIdAsync(user.Id))!, new UserLoginInfo("GitHub", "gh-4711", "GitHub"))).Succeeded);
        }

        var client = await TestData.CreateClientAsync(server, consent: true);
        using var person = new BrowserSession(server);
        await OAuthFlow.AuthorizeAsync(person, client, user.UserName!, TestData.NewPkce().Challenge);
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync($"/admin/api/users/{user.Id}/claims", new { type = "department", value = "sales" })).Status);

        var answer = await api.GetAsync($"/admin/api/users/{user.Id}");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var body = answer.Body;
        Assert.Equal(user.UserName, body.GetProperty("user").GetProperty("username").GetString());
        Assert.Equal("gh-4711", body.GetProperty("external_logins").EnumerateArray().Single().GetProperty("provider_key").GetString());
        Assert.Single(body.GetProperty("sessions").EnumerateArray());
        var app = body.GetProperty("apps").EnumerateArray().Single();
        Assert.Equal(client.ClientId, app.GetProperty("client_id").GetString());
        Assert.True(app.GetProperty("consented").GetBoolean());
        Assert.Equal(1, app.GetProperty("authorizations").GetInt32());
        Assert.Equal("sales", body.GetProperty("claims").EnumerateArray().Single().GetProperty("value").GetString());
        Assert.Contains(body.GetProperty("audit").EnumerateArray(), e => e.GetProperty("action").GetString() == "user.claim_added");
        Assert.Contains(body.GetProperty("audit").EnumerateArray(), e => e.GetProperty("action").GetString() == "consent.granted" || e.GetProperty("action").GetString() == "sign_in.password");
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("PATCH", "")]
    [InlineData("DELETE", "")]
    [InlineData("POST", "/disable")]
    [InlineData("POST", "/enable")]
    [InlineData("POST", "/unlock")]
    [InlineData("POST", "/password-reset")]
    [InlineData("POST", "/sign-out")]
    [InlineData("PUT", "/roles")]
    [InlineData("POST", "/claims")]
    [InlineData("DELETE", "/claims/department")]
    public async Task Every_action_on_a_missing_user_is_a_404_not_found(string method, string suffix)
    {
        var api = await AdminApi.SharedAsync(server);
        object? body = method switch
        {
            "PATCH" => new { name = "x" },
            "PUT" => new { roles = Strings("x") },
            "POST" when suffix == "/claims" => new { type = "department", value = "x" },
            _ => null,
        };

        var answer = await api.SendAsync(new HttpMethod(method), "/admin/api/users/no-such-" + Guid.NewGuid().ToString("N") + suffix, body);

        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.Equal("not_found", answer.Error);
    }

    [Fact]
    public async Task A_changed_email_is_unverified_unless_the_admin_says_so_and_user_names_stay_unique()
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var other = await TestData.CreateUserAsync(server);

        var changed = await api.SendAsync(HttpMethod.Patch, $"/admin/api/users/{user.Id}", new { email = "new-" + user.Email, name = "New Name" });
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.False(changed.Body.GetProperty("email_verified").GetBoolean());
        Assert.Equal("New Name", changed.Body.GetProperty("name").GetString());
        var row = await UserRowAsync(user.Id);
        Assert.Equal("new-" + user.Email, row.Email);
        Assert.False(row.EmailConfirmed);

        var verified = await api.SendAsync(HttpMethod.Patch, $"/admin/api/users/{user.Id}", new { email = "third-" + user.Email, email_verified = true });
        Assert.True(verified.Body.GetProperty("email_verified").GetBoolean());
        Assert.True((await UserRowAsync(user.Id)).EmailConfirmed);

        var taken = await api.SendAsync(HttpMethod.Patch, $"/admin/api/users/{user.Id}", new { username = other.UserName!.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.Conflict, taken.Status);
        Assert.Equal(user.UserName, (await UserRowAsync(user.Id)).UserName);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.SendAsync(HttpMethod.Patch, $"/admin/api/users/{user.Id}", new { email = "not an address" })).Status);

        var renamed = await api.SendAsync(HttpMethod.Patch, $"/admin/api/users/{user.Id}", new { username = user.UserName + "x" });
        Assert.Equal(user.UserName + "x", renamed.Body.GetProperty("username").GetString());
        var audit = await AuditAsync(user.Id);
        Assert.Equal(3, audit.Count(e => e.Action == "user.updated" && e.ActorId == api.User.Id));
    }

    [Fact]
    public async Task Disabling_ends_sessions_and_revokes_refresh_tokens_and_enabling_lets_the_person_back_in()
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        var (refreshToken, _) = await SignInToClientAsync(user, client, "openid offline_access");

        var disabled = await api.PostAsync($"/admin/api/users/{user.Id}/disable");

        Assert.Equal(HttpStatusCode.OK, disabled.Status);
        Assert.True(disabled.Body.GetProperty("disabled").GetBoolean());
        Assert.Empty(await server.WithDatabaseAsync(db => db.Sessions.Where(s => s.Subject == user.Id).ToListAsync()));
        var refresh = await OAuthFlow.PostTokenAsync(server.CreateClient(), client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });
        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        Assert.False(await CanSignInAsync(user.UserName!));

        var enabled = await api.PostAsync($"/admin/api/users/{user.Id}/enable");
        Assert.False(enabled.Body.GetProperty("disabled").GetBoolean());
        Assert.True(await CanSignInAsync(user.UserName!));
        var actions = (await AuditAsync(user.Id)).Select(e => e.Action).ToList();
        Assert.Contains("user.disabled", actions);
        Assert.Contains("user.enabled", actions);
    }

    [Fact]
    public async Task Unlock_clears_the_lockout_and_the_failed_count_but_not_a_disabled_account()
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);
        await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.LockoutEnd, server.Time.GetUtcNow().AddMinutes(15))
            .SetProperty(u => u.AccessFailedCount, 3)));
        Assert.True((await api.GetAsync($"/admin/api/users/{user.Id}")).Body.GetProperty("user").GetProperty("locked_out").GetBoolean());

        var unlocked = await api.PostAsync($"/admin/api/users/{user.Id}/unlock");

        Assert.Equal(HttpStatusCode.OK, unlocked.Status);
        Assert.False(unlocked.Body.GetProperty("locked_out").GetBoolean());
        var row = await UserRowAsync(user.Id);
        Assert.Null(row.LockoutEnd);
        Assert.Equal(0, row.AccessFailedCount);
        Assert.True(await CanSignInAsync(user.UserName!));
        Assert.Contains(await AuditAsync(user.Id), e => e.Action == "user.unlocked");

        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/admin/api/users/{user.Id}/disable")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync($"/admin/api/users/{user.Id}/unlock")).Status);
        Assert.True((await UserRowAsync(user.Id)).LockoutEnd > DateTimeOffset.UtcNow.AddYears(50));
    }

    [Fact]
    public async Task Deleting_removes_sessions_grants_tokens_consent_logins_and_claims_and_keeps_the_audit()
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server, consent: true);
        var (refreshToken, accessToken) = await SignInToClientAsync(user, client, "openid offline_access");
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync($"/admin/api/users/{user.Id}/claims", new { type = "team", value = "blue" })).Status);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            await users.AddLoginAsync((await users.FindByIdAsync(user.Id))!, new UserLoginInfo("Google", "g-" + user.Id, "Google"));
        }

        var deleted = await api.DeleteAsync($"/admin/api/users/{user.Id}");

        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.Equal(2, deleted.Body.GetProperty("grants_removed").GetInt32()); // the consent and the sign-in's family
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/admin/api/users/{user.Id}")).Status);
        await server.WithDatabaseAsync(async db =>
        {
            Assert.False(await db.Users.AnyAsync(u => u.Id == user.Id));
            Assert.False(await db.Sessions.AnyAsync(s => s.Subject == user.Id));
            Assert.False(await db.Authorizations.AnyAsync(a => a.Subject == user.Id));
            Assert.False(await db.Tokens.AnyAsync(t => t.Subject == user.Id));
            Assert.False(await db.UserLogins.AnyAsync(l => l.UserId == user.Id));
            Assert.False(await db.UserClaims.AnyAsync(c => c.UserId == user.Id));
        });
        var audit = await AuditAsync(user.Id);
        Assert.Contains(audit, e => e.Action == "user.deleted" && e.ActorId == api.User.Id);
        Assert.Contains(audit, e => e.Action == "user.claim_added"); // older entries stay
        var refresh = await OAuthFlow.PostTokenAsync(server.CreateClient(), client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });
        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        using var userInfo = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        userInfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.CreateClient().SendAsync(userInfo)).StatusCode);
    }

    [Fact]
    public async Task An_admin_cannot_delete_disable_or_demote_themself_nor_the_last_admin()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        var self = api.User.Id;

        foreach (var (method, path, body) in new (string, string, object?)[]
        {
            ("DELETE", $"/admin/api/users/{self}", null),
            ("POST", $"/admin/api/users/{self}/disable", null),
            ("PUT", $"/admin/api/users/{self}/roles", new { roles = Strings("editor") }),
        })
        {
            var answer = await api.SendAsync(new HttpMethod(method), path, body);
            Assert.Equal(HttpStatusCode.Conflict, answer.Status);
            Assert.Contains("your own account", answer.Description, StringComparison.Ordinal);
        }

        Assert.True(await server.WithDatabaseAsync(db => db.Users.AnyAsync(u => u.Id == self)));

        // The last admin: with every other admin disabled, the service refuses (the CLI is not a user, so only this rule applies).
        List<string> otherAdmins;
        await using (var lookup = server.Services.CreateAsyncScope())
        {
            var users = lookup.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            otherAdmins = (await users.GetUsersInRoleAsync(AdminRoles.Admin)).Where(u => u.Id != self && !AdminRoles.IsDisabled(u, server.Time.GetUtcNow())).Select(u => u.Id).ToList();
        }

        await server.WithDatabaseAsync(db => db.Users.Where(u => otherAdmins.Contains(u.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.LockoutEnabled, true).SetProperty(u => u.LockoutEnd, DateTimeOffset.MaxValue)));
        try
        {
            await using var scope = server.Services.CreateAsyncScope();
            var service = scope.ServiceProvider.GetRequiredService<UserAdminService>();
            var deleted = await service.DeleteAsync(self, Audit.AdminActor.CommandLine, CancellationToken.None);
            Assert.Equal(AdminOutcome.Conflict, deleted.Outcome);
            Assert.Contains("last administrator", deleted.Error!.Description, StringComparison.Ordinal);
            Assert.Equal(AdminOutcome.Conflict, (await service.ChangeRoleAsync(self, AdminRoles.Admin, add: false, Audit.AdminActor.CommandLine, CancellationToken.None)).Outcome);
        }
        finally
        {
            await server.WithDatabaseAsync(db => db.Users.Where(u => otherAdmins.Contains(u.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(u => u.LockoutEnd, (DateTimeOffset?)null)));
        }
    }

    [Fact]
    public async Task Roles_are_replaced_created_when_new_and_listed()
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var role = "editor-" + Guid.NewGuid().ToString("N")[..6];

        var set = await api.PutAsync($"/admin/api/users/{user.Id}/roles", new { roles = Strings(role, "admin") });

        Assert.Equal(HttpStatusCode.OK, set.Status);
        Assert.Equal(Strings("admin", role), set.Body.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray());
        Assert.Contains((await api.GetAsync("/admin/api/roles")).Body.EnumerateArray(), r => r.GetProperty("name").GetString() == role && r.GetProperty("members").GetInt32() == 1);
        // The admin role is the one the admin area checks: the person is an admin now.
        var promoted = new AdminApi(server.CreateClient(), await AdminApi.AccessTokenAsync(server, user), user);
        Assert.Equal(HttpStatusCode.OK, (await promoted.GetAsync("/admin/api/users?limit=1")).Status);

        var demoted = await api.PutAsync($"/admin/api/users/{user.Id}/roles", new { roles = Strings(role) });
        Assert.Equal(Strings(role), demoted.Body.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await promoted.GetAsync("/admin/api/users?limit=1")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PutAsync($"/admin/api/users/{user.Id}/roles", new { roles = Strings("has space") })).Status);
        var actions = (await AuditAsync(user.Id)).Select(e => e.Action).ToList();
        Assert.Contains("user.role_added", actions);
        Assert.Contains("user.admin_granted", actions);
        Assert.Contains("user.admin_revoked", actions);
    }

    [Theory]
    [InlineData("sub")]
    [InlineData("iss")]
    [InlineData("Aud")]
    [InlineData("client_id")]
    [InlineData("roles")]
    [InlineData("email")]
    [InlineData("no spaces")]
    public async Task A_custom_claim_never_takes_a_protocol_claims_name(string type)
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);

        var answer = await api.PostAsync($"/admin/api/users/{user.Id}/claims", new { type, value = "x" });

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("invalid_request", answer.Error);
        Assert.False(await server.WithDatabaseAsync(db => db.UserClaims.AnyAsync(c => c.UserId == user.Id)));
        // Nor may a scope release one.
        var scope = await api.PostAsync("/admin/api/scopes", new { name = "bad-" + Guid.NewGuid().ToString("N")[..8], claims = Strings(type) });
        Assert.Equal(HttpStatusCode.BadRequest, scope.Status);
    }

    [Fact]
    public async Task Custom_claims_are_added_and_removed_and_duplicates_refused()
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync($"/admin/api/users/{user.Id}/claims", new { type = "team", value = "red" })).Status);
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync($"/admin/api/users/{user.Id}/claims", new { type = "team", value = "blue" })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync($"/admin/api/users/{user.Id}/claims", new { type = "team", value = "blue" })).Status);

        var one = await api.DeleteAsync($"/admin/api/users/{user.Id}/claims/team?value=red");
        Assert.Equal(1, one.Body.GetProperty("removed").GetInt32());
        Assert.Equal(Strings("blue"), await server.WithDatabaseAsync(db => db.UserClaims.Where(c => c.UserId == user.Id).Select(c => c.ClaimValue!).ToArrayAsync()));
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync($"/admin/api/users/{user.Id}/claims/nothing")).Status);
        Assert.Contains(await AuditAsync(user.Id), e => e.Action == "user.claim_removed");
    }

    [Fact]
    public async Task A_forced_password_reset_makes_the_person_choose_a_new_password_before_the_sign_in_completes()
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);

        var forced = await api.PostAsync($"/admin/api/users/{user.Id}/password-reset");
        Assert.Equal(HttpStatusCode.OK, forced.Status);
        Assert.True(forced.Body.GetProperty("password_change_required").GetBoolean());

        using var browser = new BrowserSession(server);
        var setPage = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Fdevices"), user.UserName!);
        Assert.Equal("/account/set-password", setPage.RequestMessage!.RequestUri!.AbsolutePath);
        // Not signed in yet: a protected page still sends to the sign-in form.
        Assert.Equal("/account/login", (await browser.GetAsync("/account/devices")).RequestMessage!.RequestUri!.AbsolutePath);
        var same = await browser.SubmitAsync(setPage, new() { ["NewPassword"] = TestData.Password, ["ConfirmPassword"] = TestData.Password });
        Assert.Contains("different from the previous", await same.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        const string newPassword = "a brand new passphrase for you";
        var done = await browser.SubmitAsync(same, new() { ["NewPassword"] = newPassword, ["ConfirmPassword"] = newPassword });

        Assert.Equal("/account/devices", done.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Null((await UserRowAsync(user.Id)).PasswordChangeRequiredAt);
        Assert.False(await CanSignInAsync(user.UserName!));
        Assert.True(await CanSignInAsync(user.UserName!, newPassword));
        Assert.Contains(await AuditAsync(user.Id), e => e.Action == "user.password_reset_required");

        // Without the ticket of a fresh sign-in, the page does nothing.
        using var stranger = new BrowserSession(server);
        Assert.Contains("reached by signing in", await (await stranger.GetAsync("/account/set-password")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_user_endpoints()
    {
        var response = await server.CreateClient().GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths");

        foreach (var (path, method) in new[]
        {
            ("/admin/api/users", "get"), ("/admin/api/users", "post"), ("/admin/api/users/{userId}", "get"), ("/admin/api/users/{userId}", "patch"),
            ("/admin/api/users/{userId}", "delete"), ("/admin/api/users/{userId}/disable", "post"), ("/admin/api/users/{userId}/enable", "post"),
            ("/admin/api/users/{userId}/unlock", "post"), ("/admin/api/users/{userId}/password-reset", "post"), ("/admin/api/users/{userId}/roles", "put"),
            ("/admin/api/users/{userId}/claims", "post"), ("/admin/api/users/{userId}/claims/{type}", "delete"), ("/admin/api/roles", "get"),
        })
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not documented");
            Assert.True(item.TryGetProperty(method, out var operation), $"{method} {path} is not documented");
            Assert.True(operation.TryGetProperty("summary", out _), $"{method} {path} has no summary");
            Assert.True(operation.GetProperty("responses").TryGetProperty("404", out _) || path is "/admin/api/users" or "/admin/api/roles", $"{method} {path} documents no 404");
        }

        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("UserDetailsModel").GetProperty("properties").TryGetProperty("external_logins", out _));
        Assert.True(schemas.GetProperty("ScopeModel").GetProperty("properties").TryGetProperty("claims", out _));
    }

    private static string[] Names(JsonElement page) =>
        page.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("username").GetString()!).ToArray();

    private Task<ApplicationUser> UserRowAsync(string id) => server.WithDatabaseAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == id));

    private Task<List<AuditEntry>> AuditAsync(string userId) =>
        server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Target == "user:" + userId).ToListAsync());

    private async Task<bool> CanSignInAsync(string userName, string password = TestData.Password)
    {
        using var browser = new BrowserSession(server);
        var answer = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login"), userName, password);
        return !(await answer.Content.ReadAsStringAsync()).Contains("did not work", StringComparison.Ordinal)
            && answer.RequestMessage!.RequestUri!.AbsolutePath != "/account/set-password";
    }

    private async Task<(string RefreshToken, string AccessToken)> SignInToClientAsync(ApplicationUser user, TestClient client, string scope)
    {
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, scope: scope);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        return (body.GetProperty("refresh_token").GetString()!, body.GetProperty("access_token").GetString()!);
    }
}
