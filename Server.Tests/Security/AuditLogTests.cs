using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AngleSharp.Html.Parser;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Jobs;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Security.Hostile;

namespace IdentityServer.Tests.Security;

/// <summary>
/// The audit log records each security event and admin change with its time, actor, address, client and outcome, and
/// never a password, secret or token; admins query it with filters and pages; the prune job keeps it for its retention.
/// </summary>
[Collection(SharedSecurityServer.Name)]
public sealed class AuditLogTests(SecurityServer server)
{
    private const string Address = "198.51.100.7";

    [Fact]
    public async Task Password_sign_in_success_and_failure_are_recorded_with_address_client_and_no_password()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var browser = Browser();
        var (_, challenge) = TestData.NewPkce();
        var signInPage = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge));
        var failed = await browser.SubmitAsync(signInPage, new() { ["Username"] = user.UserName!, ["Password"] = "Wrong-Password-123" });
        await browser.SubmitAsync(failed, new() { ["Username"] = user.UserName!, ["Password"] = TestData.Password });
        await browser.SubmitAsync(await browser.GetAsync("/account/login"), new() { ["Username"] = "nobody-" + Guid.NewGuid().ToString("N"), ["Password"] = "Typed-By-Nobody-1" });

        var entries = await EntriesAsync(e => e.Action == "sign_in.password" && (e.Target == "user:" + user.Id || (e.ActorId == AuditLog.Anonymous && e.IpAddress == Address)));
        var failure = Assert.Single(entries, e => e.Target == "user:" + user.Id && e.Outcome == AuditOutcomes.Failure);
        var success = Assert.Single(entries, e => e.Target == "user:" + user.Id && e.Outcome == AuditOutcomes.Success);
        var unknown = Assert.Single(entries, e => e.ActorId == AuditLog.Anonymous);
        foreach (var entry in new[] { failure, success })
        {
            Assert.Equal(AuditKinds.SignIn, entry.Kind);
            Assert.Equal(user.Id, entry.ActorId);
            Assert.Equal(user.UserName, entry.ActorName);
            Assert.Equal(Address, entry.IpAddress);
            Assert.Equal(client.ClientId, entry.ClientId);
            Assert.InRange(entry.Timestamp, server.Time.GetUtcNow().UtcDateTime.AddMinutes(-1), server.Time.GetUtcNow().UtcDateTime.AddMinutes(1));
        }

        Assert.Contains("wrong_password", failure.Details, StringComparison.Ordinal);
        Assert.Equal("user:unknown", unknown.Target);
        Assert.Contains("unknown_account", unknown.Details, StringComparison.Ordinal);
        Assert.Null(unknown.ActorName); // a typed name may be a mistyped password
        await AssertNoSecretsAsync("Wrong-Password-123", "Typed-By-Nobody-1", TestData.Password);
    }

    [Fact]
    public async Task Registration_is_recorded()
    {
        using var browser = Browser();
        var name = "reg" + Guid.NewGuid().ToString("N")[..10];
        var response = await browser.SubmitAsync(await browser.GetAsync("/account/register"), new()
        {
            ["UserName"] = name,
            ["Email"] = name + "@example.com",
            ["Password"] = TestData.Password,
            ["ConfirmPassword"] = TestData.Password,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var entry = Assert.Single(await EntriesAsync(e => e.Action == "account.registered" && e.ActorName == name));
        Assert.Equal((AuditKinds.SignIn, AuditOutcomes.Success, Address), (entry.Kind, entry.Outcome, entry.IpAddress));
    }

    [Fact]
    public async Task Unlinking_a_provider_is_recorded_and_so_is_the_refusal_to_unlink_the_last_way_in()
    {
        var user = await TestData.CreateUserAsync(server);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var row = (await users.FindByIdAsync(user.Id))!;
            Assert.True((await users.AddLoginAsync(row, new UserLoginInfo("github", "gh-" + user.Id, "GitHub"))).Succeeded);
            Assert.True((await users.AddLoginAsync(row, new UserLoginInfo("google", "g-" + user.Id, "Google"))).Succeeded);
        }

        using var browser = Browser();
        await SignInWithoutPasswordAsync(browser, user);
        var unlinked = await UnlinkAsync(browser, "github", "gh-" + user.Id);
        Assert.Equal(HttpStatusCode.OK, unlinked.StatusCode);
        await UnlinkAsync(browser, "google", "g-" + user.Id); // the last way in: refused

        var entries = await EntriesAsync(e => e.Kind == AuditKinds.ExternalLogin && e.Target == "user:" + user.Id);
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e => Assert.Equal(("external_login.unlinked", user.Id, Address), (e.Action, e.ActorId, e.IpAddress)));
        Assert.Contains("github", Assert.Single(entries, e => e.Outcome == AuditOutcomes.Success).Details, StringComparison.Ordinal);
        Assert.Contains("last_way_to_sign_in", Assert.Single(entries, e => e.Outcome == AuditOutcomes.Failure).Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consent_granted_and_revoked_are_recorded()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server, consent: true);
        using var browser = Browser();
        var (_, challenge) = TestData.NewPkce();
        await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, scope: "openid profile");

        await PostFormAsync(browser, "/account/devices", "RevokeApp", ("applicationId", client.ApplicationId));

        var entries = await EntriesAsync(e => e.Kind == AuditKinds.Consent && e.ClientId == client.ClientId);
        Assert.Equal(["consent.granted", "consent.revoked"], entries.Select(e => e.Action).Order());
        Assert.All(entries, e => Assert.Equal((user.Id, AuditOutcomes.Success, Address), (e.ActorId, e.Outcome, e.IpAddress)));
        Assert.Contains("profile", Assert.Single(entries, e => e.Action == "consent.granted").Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_token_reuse_is_recorded_as_a_failure_of_the_client()
    {
        var (client, tokens) = await TokensAsync();
        using var http = CreateClient(server);
        var refresh = tokens.GetProperty("refresh_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh })).Status);

        var entry = Assert.Single(await EntriesAsync(e => e.Action == "refresh_token.reuse_detected" && e.ClientId == client.ClientId));
        Assert.Equal((AuditKinds.Token, AuditOutcomes.Failure, "client:" + client.ClientId), (entry.Kind, entry.Outcome, entry.ActorId));
        Assert.StartsWith("grant:", entry.Target, StringComparison.Ordinal);
        await AssertNoSecretsAsync(refresh);
    }

    [Fact]
    public async Task Authorization_code_replay_is_recorded()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var browser = Browser();
        var (verifier, challenge) = TestData.NewPkce();
        var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge))["code"];
        Assert.Equal(HttpStatusCode.OK, (await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier)).Status);

        var entry = Assert.Single(await EntriesAsync(e => e.Action == "authorization_code.replayed" && e.ClientId == client.ClientId));
        Assert.Equal((AuditKinds.Token, AuditOutcomes.Failure, Address), (entry.Kind, entry.Outcome, entry.IpAddress));
        await AssertNoSecretsAsync(code, verifier);
    }

    [Fact]
    public async Task Tokens_and_grants_revoked_by_their_client_are_recorded()
    {
        var (client, tokens) = await TokensAsync();
        using var http = CreateClient(server);
        foreach (var name in new[] { "access_token", "refresh_token" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/revoke")
            {
                Content = new FormUrlEncodedContent([new("token", tokens.GetProperty(name).GetString()!)]),
            };
            request.Headers.Authorization = World.Basic(client);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
        }

        var entries = await EntriesAsync(e => e.Kind == AuditKinds.Token && e.ClientId == client.ClientId);
        Assert.Equal(["access_token.revoked", "refresh_token.revoked"], entries.Select(e => e.Action).Order());
        Assert.StartsWith("access_token:", Assert.Single(entries, e => e.Action == "access_token.revoked").Target, StringComparison.Ordinal);
        Assert.StartsWith("grant:", Assert.Single(entries, e => e.Action == "refresh_token.revoked").Target, StringComparison.Ordinal);
        Assert.All(entries, e => Assert.Equal(("client:" + client.ClientId, AuditOutcomes.Success), (e.ActorId, e.Outcome)));
        await AssertNoSecretsAsync(tokens.GetProperty("access_token").GetString()!, tokens.GetProperty("refresh_token").GetString()!, client.Secret!);
    }

    [Fact]
    public async Task Ending_a_session_an_apps_logout_and_signing_out_everywhere_are_recorded()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server, postLogoutRedirectUris: ["https://rp.example/bye"]);

        // An app's logout (RP-Initiated Logout), with the ID token as hint.
        using (var browser = Browser())
        {
            var (verifier, challenge) = TestData.NewPkce();
            var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge))["code"];
            var idToken = (await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier)).Body.GetProperty("id_token").GetString()!;
            var logout = await browser.GetAsync("/connect/endsession?id_token_hint=" + idToken + "&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye");
            Assert.Equal("https://rp.example/bye", logout.Headers.Location!.OriginalString);
        }

        // Another device ended from "Devices and apps", then everything.
        using var other = Browser();
        using var current = Browser();
        await OAuthFlow.SignInAsync(other, await other.GetAsync("/account/login"), user.UserName!);
        await OAuthFlow.SignInAsync(current, await current.GetAsync("/account/login"), user.UserName!);
        var document = await BrowserSession.ReadPageAsync(await current.GetAsync("/account/devices"));
        var otherSession = document.QuerySelectorAll("li")
            .Where(li => li.QuerySelector("input[name=sessionId]") is not null && !li.TextContent.Contains("(this device)", StringComparison.Ordinal))
            .Select(li => li.QuerySelector("input[name=sessionId]")!.GetAttribute("value")!)
            .Single();
        await PostFormAsync(current, "/account/devices", "EndSession", ("sessionId", otherSession));
        await PostFormAsync(current, "/account/devices", "Everywhere");

        var entries = await EntriesAsync(e => e.Kind == AuditKinds.Session && e.Target == "user:" + user.Id);
        Assert.Equal(["session.ended", "session.logout", "session.signed_out_everywhere"], entries.Select(e => e.Action).Order());
        Assert.Equal(client.ClientId, Assert.Single(entries, e => e.Action == "session.logout").ClientId);
        Assert.All(entries, e => Assert.Equal((user.Id, AuditOutcomes.Success, Address), (e.ActorId, e.Outcome, e.IpAddress)));
    }

    [Fact]
    public async Task Client_and_scope_changes_through_the_admin_API_are_recorded_with_the_admin_and_the_address()
    {
        var world = await server.WorldAsync();
        using var http = CreateClient(server);
        var scope = "audit-" + Guid.NewGuid().ToString("N")[..8];
        var clientId = "audited-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await AdminAsync(http, world, HttpMethod.Post, "/admin/api/scopes", $"{{\"name\":\"{scope}\"}}")).StatusCode);
        using var created = await AdminAsync(http, world, HttpMethod.Post, "/admin/api/clients",
            $"{{\"client_id\":\"{clientId}\",\"client_name\":\"Audited\",\"redirect_uris\":[\"https://audited.example/cb\"],\"scopes\":[\"{scope}\"]}}");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("client_secret").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(http, world, HttpMethod.Post, $"/admin/api/clients/{clientId}/disable")).StatusCode);

        var entries = await EntriesAsync(e => e.Target == "scope:" + scope || e.ClientId == clientId);
        Assert.Equal(["client.created", "client.disabled", "scope.created"], entries.Select(e => e.Action).Order());
        Assert.All(entries, e => Assert.Equal((AuditKinds.Admin, AuditOutcomes.Success, Address), (e.Kind, e.Outcome, e.IpAddress)));
        var admin = entries[0].ActorId;
        Assert.All(entries, e => Assert.Equal(admin, e.ActorId));
        Assert.Null(Assert.Single(entries, e => e.Action == "scope.created").ClientId);
        Assert.All(entries.Where(e => e.Action != "scope.created"), e => Assert.Equal(clientId, e.ClientId));
        await AssertNoSecretsAsync(secret, world.AdminAccessToken);
    }

    [Fact]
    public async Task Admins_query_the_log_by_kind_actor_client_outcome_and_time_page_by_page()
    {
        var world = await server.WorldAsync();
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var start = server.Time.GetUtcNow();
        using (var browser = Browser())
        {
            var (_, challenge) = TestData.NewPkce();
            var page = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge));
            for (var i = 0; i < 3; i++)
            {
                page = await browser.SubmitAsync(page, new() { ["Username"] = user.UserName!, ["Password"] = "wrong-" + i });
                server.Time.Advance(TimeSpan.FromSeconds(1));
            }

            await browser.SubmitAsync(page, new() { ["Username"] = user.UserName!, ["Password"] = TestData.Password });
        }

        using var http = CreateClient(server);
        var all = await QueryAsync(http, world, $"?client={client.ClientId}");
        Assert.Equal(4, all.Count);
        Assert.Equal(["success", "failure", "failure", "failure"], all.Select(e => e.GetProperty("outcome").GetString()));
        Assert.All(all, e => Assert.Equal(Address, e.GetProperty("ip_address").GetString()));

        Assert.Equal(3, (await QueryAsync(http, world, $"?client={client.ClientId}&outcome=failure&kind=sign_in")).Count);
        Assert.Single(await QueryAsync(http, world, $"?actor={user.Id}&outcome=success&action=sign_in.password"));
        Assert.Empty(await QueryAsync(http, world, $"?client={client.ClientId}&kind=admin"));
        var from = start.AddSeconds(1).UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        var to = start.AddSeconds(2).UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        var window = await QueryAsync(http, world, $"?client={client.ClientId}&from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}");
        Assert.Single(window); // the second failure: from is inclusive, to exclusive

        using var first = await AdminAsync(http, world, HttpMethod.Get, $"/admin/api/audit?client={client.ClientId}&limit=3");
        var next = Assert.Single(first.Headers.GetValues("Link"));
        Assert.Contains("rel=\"next\"", next, StringComparison.Ordinal);
        var nextUrl = next[(next.IndexOf('<', StringComparison.Ordinal) + 1)..next.IndexOf('>', StringComparison.Ordinal)];
        Assert.Contains("offset=3", nextUrl, StringComparison.Ordinal);
        using var second = await AdminAsync(http, world, HttpMethod.Get, nextUrl);
        var pages = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.EnumerateArray()
            .Concat(JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.EnumerateArray())
            .Select(e => e.GetProperty("id").GetString()).ToList();
        Assert.Equal(all.Select(e => e.GetProperty("id").GetString()), pages);
        Assert.False(second.Headers.Contains("Link"));
    }

    [Fact]
    public async Task The_admin_audit_query_keeps_its_older_parameters()
    {
        var world = await server.WorldAsync();
        using var http = CreateClient(server);
        var scope = "kept-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await AdminAsync(http, world, HttpMethod.Post, "/admin/api/scopes", $"{{\"name\":\"{scope}\"}}")).StatusCode);

        var entry = Assert.Single(await QueryAsync(http, world, $"?target=scope:{scope}&limit=5"));
        Assert.Equal("scope.created", entry.GetProperty("action").GetString());
        Assert.Equal("admin", entry.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task The_prune_job_deletes_entries_past_the_audit_retention_only()
    {
        var now = server.Time.GetUtcNow().UtcDateTime;
        var marker = "prune-" + Guid.NewGuid().ToString("N");
        await server.WithDatabaseAsync(async db =>
        {
            db.AuditEntries.AddRange(
                new AuditEntry { ActorId = marker, Action = "old", Target = "x", Timestamp = now - TimeSpan.FromDays(91) },
                new AuditEntry { ActorId = marker, Action = "kept", Target = "x", Timestamp = now - TimeSpan.FromDays(89) });
            await db.SaveChangesAsync();
        });

        var result = await server.Services.GetRequiredService<PruneService>().RunAsync(CancellationToken.None);

        Assert.True(result.Deleted("audit entries") >= 1);
        Assert.Equal(["kept"], await server.WithDatabaseAsync(db => db.AuditEntries.Where(e => e.ActorId == marker).Select(e => e.Action).ToListAsync()));
    }

    [Theory]
    [InlineData("00:09:59")]
    [InlineData("-1.00:00:00")]
    public void An_audit_retention_under_ten_minutes_stops_startup_naming_the_setting(string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("Pruning:AuditRetention", value)]).Build();

        var error = Assert.Throws<StartupConfigurationException>(() => PruningOptions.Read(configuration));
        Assert.Equal("Pruning:AuditRetention", error.Setting);
        Assert.Equal(TimeSpan.FromDays(90), new PruningOptions().AuditRetention);
    }

    private BrowserSession Browser()
    {
        var browser = new BrowserSession(server);
        browser.Http.DefaultRequestHeaders.Add("X-Forwarded-For", Address);
        return browser;
    }

    private async Task<(TestClient Client, JsonElement Tokens)> TokensAsync()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var browser = Browser();
        var (verifier, challenge) = TestData.NewPkce();
        var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge))["code"];
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        return (client, body);
    }

    /// <summary>
    /// Signs in with the password, then takes the password away as if the account had only ever used providers. The
    /// security stamp is put back, so this session stays valid (the person did not change anything).
    /// </summary>
    private async Task SignInWithoutPasswordAsync(BrowserSession browser, ApplicationUser user)
    {
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), user.UserName!);
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var row = (await users.FindByIdAsync(user.Id))!;
        var stamp = row.SecurityStamp;
        Assert.True((await users.RemovePasswordAsync(row)).Succeeded);
        await scope.ServiceProvider.GetRequiredService<IdentityDbContext>().Users.Where(u => u.Id == user.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.SecurityStamp, stamp));
    }

    private static Task<HttpResponseMessage> UnlinkAsync(BrowserSession browser, string provider, string key) =>
        PostFormAsync(browser, "/account/logins", "Unlink", ("provider", provider), ("providerKey", key));

    /// <summary>POSTs one handler of a page as its form would, with an antiforgery token of this session (from "Devices and apps", which always has forms).</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(BrowserSession browser, string page, string handler, params (string Name, string Value)[] fields)
    {
        var document = new HtmlParser().ParseDocument(await (await browser.GetAsync("/account/devices")).Content.ReadAsStringAsync());
        var token = document.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var response = await browser.Http.PostAsync(new Uri($"{page}?handler={handler}", UriKind.Relative),
            new FormUrlEncodedContent([.. fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)), new("__RequestVerificationToken", token)]));
        return await browser.FollowAsync(response);
    }

    private static async Task<HttpResponseMessage> AdminAsync(HttpClient http, World world, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", world.AdminAccessToken);
        request.Headers.Add("X-Forwarded-For", Address);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await http.SendAsync(request);
    }

    private static async Task<List<JsonElement>> QueryAsync(HttpClient http, World world, string query)
    {
        using var response = await AdminAsync(http, world, HttpMethod.Get, "/admin/api/audit" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray()];
    }

    /// <summary>The entries matching, oldest first.</summary>
    private Task<List<AuditEntry>> EntriesAsync(System.Linq.Expressions.Expression<Func<AuditEntry, bool>> filter) =>
        server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().Where(filter).OrderBy(e => e.Timestamp).ThenBy(e => e.Action).ToListAsync());

    /// <summary>No column of any entry holds one of these values.</summary>
    private Task AssertNoSecretsAsync(params string[] secrets) => server.WithDatabaseAsync(async db =>
    {
        var rows = await db.AuditEntries.AsNoTracking().ToListAsync();
        foreach (var row in rows)
        {
            var text = string.Join("|", row.ActorId, row.ActorName, row.Action, row.Target, row.Details, row.ClientId, row.IpAddress);
            Assert.DoesNotContain(secrets, s => text.Contains(s, StringComparison.Ordinal));
        }
    });
}
