using System.Net;
using AngleSharp.Html.Dom;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Admin;

/// <summary>The admin pages' conveniences and guards: client presets, the page after registration, confirmed deletions.</summary>
[Collection(AdminServer.Name)]
public sealed class AdminPagesUxTests(SqliteServer server)
{
    [Theory]
    [InlineData("web", "confidential", "authorization_code refresh_token", false)]
    [InlineData("spa", "public", "authorization_code refresh_token", false)]
    [InlineData("native", "public", "authorization_code refresh_token", false)]
    [InlineData("m2m", "confidential", "client_credentials", false)]
    [InlineData("resource", "confidential", "client_credentials", true)]
    public async Task A_preset_fills_the_client_form_and_the_client_it_makes_is_valid(string preset, string clientType, string grantTypes, bool canIntrospect)
    {
        using var browser = await SignedInAdminAsync();
        var form = await browser.GetAsync($"/admin/clients/new?preset={preset}");
        var document = await BrowserSession.ReadPageAsync(form);
        Assert.Equal(clientType, (document.QuerySelector("#Form_ClientType") as IHtmlSelectElement)!.Value);
        Assert.Equal("true", document.QuerySelector($"a[href='/admin/clients/new?preset={preset}']")!.GetAttribute("aria-current"));
        Assert.NotNull(document.QuerySelector("#preset-description"));

        // Submitted as a browser would: what the form shows, plus a name, an id and (for sign-in apps) a redirect URI.
        var clientId = $"preset-{preset}-" + Guid.NewGuid().ToString("N")[..6];
        var fields = FormFields(document);
        fields["Form.ClientId"] = clientId;
        fields["Form.DisplayName"] = "Preset " + preset;
        if (preset is "web" or "spa")
        {
            fields["Form.RedirectUris"] = "https://app.example.com/cb";
        }

        var created = await browser.Http.PostAsync(new Uri("/admin/clients/new", UriKind.Relative), new FormUrlEncodedContent(fields));
        var page = await BrowserSession.ReadPageAsync(created);
        Assert.True(page.QuerySelector("h1")?.TextContent == "Client registered", page.QuerySelector("#error")?.TextContent ?? page.Body?.TextContent);
        var descriptor = ClientDescriptor.From(await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId)));
        Assert.Equal(clientType == "confidential", descriptor.IsConfidential);
        Assert.Equal(grantTypes, string.Join(' ', descriptor.GrantTypes.Order(StringComparer.Ordinal)));
        Assert.Equal(canIntrospect, descriptor.CanIntrospect);
        Assert.Equal(clientType == "confidential", page.QuerySelector("#client-secret") is not null);
    }

    [Fact]
    public async Task After_registration_the_page_lists_the_endpoints_and_offers_a_copy_button_for_the_secret()
    {
        using var browser = await SignedInAdminAsync();
        var form = await browser.GetAsync("/admin/clients/new?preset=web");
        var created = await browser.SubmitAsync(form, new() { ["Form.RedirectUris"] = "https://app.example.com/cb", ["Form.DisplayName"] = "Endpoints" });
        var page = await BrowserSession.ReadPageAsync(created);

        var endpoints = page.QuerySelector("#endpoints")!.TextContent;
        Assert.Contains("/.well-known/openid-configuration", endpoints, StringComparison.Ordinal);
        Assert.Contains("/connect/authorize", endpoints, StringComparison.Ordinal);
        Assert.Contains("/connect/token", endpoints, StringComparison.Ordinal);
        // The copy button is a progressive enhancement: hidden until admin.js (a file, as the CSP wants) shows it.
        var copy = page.QuerySelector("button[data-copy-target='client-secret']")!;
        Assert.True(copy.HasAttribute("hidden"));
        Assert.NotNull(page.QuerySelector("script[src='/admin.js']"));
        var script = await browser.GetAsync("/admin.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("clipboard", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_client_or_a_scope_needs_the_confirmation_box()
    {
        using var browser = await SignedInAdminAsync();
        var client = await TestData.CreateClientAsync(server);
        var edit = await browser.GetAsync($"/admin/clients/{client.ClientId}");
        var document = await BrowserSession.ReadPageAsync(edit);
        Assert.Equal("danger", document.QuerySelector("form[action*='handler=Delete'] button")!.ClassName);
        Assert.NotNull(document.QuerySelector("form[action*='handler=Delete'] input[name=confirm][required]"));

        var refused = await browser.SubmitAsync(edit, new() { ["confirm"] = "" }, formSelector: "form[action*='handler=Delete']");
        Assert.NotNull((await BrowserSession.ReadPageAsync(refused)).QuerySelector("#unconfirmed"));
        Assert.True(await server.WithDatabaseAsync(db => db.Applications.AnyAsync(a => a.ClientId == client.ClientId)));

        var deleted = await browser.SubmitAsync(edit, new() { ["confirm"] = "true" }, formSelector: "form[action*='handler=Delete']");
        Assert.Equal("/admin/clients", deleted.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.False(await server.WithDatabaseAsync(db => db.Applications.AnyAsync(a => a.ClientId == client.ClientId)));

        var scopeName = "scope-" + Guid.NewGuid().ToString("N")[..8];
        var scopes = await browser.GetAsync("/admin/scopes");
        await browser.SubmitAsync(scopes, new() { ["Form.Name"] = scopeName, ["Form.DisplayName"] = "To delete" }, formSelector: "form[method=post]");
        var scopePage = await browser.GetAsync($"/admin/scopes/{scopeName}");
        Assert.Equal(HttpStatusCode.OK, scopePage.StatusCode);
        var scopeRefused = await browser.SubmitAsync(scopePage, new() { ["confirm"] = "" }, formSelector: "form[action*='handler=Delete']");
        Assert.Contains("Tick the box", await scopeRefused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/admin/scopes/{scopeName}")).StatusCode);
        var scopeDeleted = await browser.SubmitAsync(scopePage, new() { ["confirm"] = "true" }, formSelector: "form[action*='handler=Delete']");
        Assert.Equal("/admin/scopes", scopeDeleted.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task Revoking_one_grant_needs_the_confirmation_box_and_the_audit_filters_find_it_by_user_and_client()
    {
        using var browser = await SignedInAdminAsync();
        var client = await TestData.CreateClientAsync(server);
        var alice = await TestData.CreateUserAsync(server);
        var bob = await TestData.CreateUserAsync(server);
        foreach (var person in new[] { alice, bob })
        {
            using var session = new BrowserSession(server);
            await OAuthFlow.AuthorizeAsync(session, client, person.UserName!, TestData.NewPkce().Challenge);
        }

        Task<bool> HoldsGrantAsync(string subject) =>
            server.WithDatabaseAsync(db => db.Authorizations.AnyAsync(a => a.ApplicationId == client.ApplicationId && a.Subject == subject && a.Status == "valid"));

        // The client's page: one grant, confirmed like every destructive action (the box is required, the server checks it).
        var edit = await browser.GetAsync($"/admin/clients/{client.ClientId}");
        const string revokeForm = "form[action*='handler=RevokeGrant']";
        var document = await BrowserSession.ReadPageAsync(edit);
        // The first grant listed is revoked here, the other person's on their own page.
        var firstGrant = document.QuerySelector($"{revokeForm} input[name=grantId]")!.GetAttribute("value");
        if (firstGrant != await GrantIdAsync(alice.Id))
        {
            (alice, bob) = (bob, alice);
        }

        Assert.NotNull(document.QuerySelector($"{revokeForm} input[name=confirm][required]"));
        Assert.Equal("danger", document.QuerySelector($"{revokeForm} button")!.ClassName);
        var refused = await browser.SubmitAsync(edit, new() { ["confirm"] = "" }, formSelector: revokeForm);
        Assert.NotNull((await BrowserSession.ReadPageAsync(refused)).QuerySelector("#unconfirmed"));
        Assert.True(await HoldsGrantAsync(alice.Id));
        var revoked = await browser.SubmitAsync(edit, new() { ["confirm"] = "true" }, formSelector: revokeForm);
        Assert.Contains("The grant was revoked", await revoked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await HoldsGrantAsync(alice.Id));
        Assert.True(await HoldsGrantAsync(bob.Id));

        // The user's page: an app's grants for that person, confirmed the same way.
        var userPage = await browser.GetAsync($"/admin/users/{bob.Id}");
        const string appForm = "form[action*='handler=RevokeApp']";
        Assert.NotNull((await BrowserSession.ReadPageAsync(userPage)).QuerySelector($"{appForm} input[name=confirm][required]"));
        var appRefused = await browser.SubmitAsync(userPage, new() { ["confirm"] = "" }, formSelector: appForm);
        Assert.Contains("Tick the box", (await BrowserSession.ReadPageAsync(appRefused)).QuerySelector("#error")!.TextContent, StringComparison.Ordinal);
        Assert.True(await HoldsGrantAsync(bob.Id));
        var appRevoked = await browser.SubmitAsync(userPage, new() { ["confirm"] = "true" }, formSelector: appForm);
        Assert.Contains($"grant(s) of {client.ClientId} revoked", await appRevoked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await HoldsGrantAsync(bob.Id));

        // Audited about the person and the client: each person's filter shows the admin's revocation of their grant.
        foreach (var (person, action) in new[] { (alice, "client.grant_revoked"), (bob, "client.grants_revoked") })
        {
            var byUser = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/audit?kind=admin&user={person.UserName}"));
            var row = Assert.Single(byUser.QuerySelectorAll("#audit tbody tr"));
            Assert.Contains(action, row.TextContent, StringComparison.Ordinal);
        }

        var byClient = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/audit?kind=admin&client={client.ClientId}"));
        var clientRows = byClient.QuerySelectorAll("#audit tbody tr").Select(r => r.TextContent).ToList();
        Assert.Contains(clientRows, r => r.Contains("client.grant_revoked", StringComparison.Ordinal));
        Assert.Contains(clientRows, r => r.Contains("client.grants_revoked", StringComparison.Ordinal));

        Task<string> GrantIdAsync(string subject) => server.WithDatabaseAsync(db =>
            db.Authorizations.Where(a => a.ApplicationId == client.ApplicationId && a.Subject == subject).Select(a => a.Id).SingleAsync());
    }

    [Fact]
    public async Task The_audit_page_filters_by_user_include_changes_made_to_the_account_and_by_client_changes_made_to_the_client()
    {
        using var browser = await SignedInAdminAsync();
        var person = await TestData.CreateUserAsync(server);
        var userPage = await browser.GetAsync($"/admin/users/{person.Id}");
        await browser.SubmitAsync(userPage, [], formSelector: "form[action*='handler=Disable']");
        var client = await TestData.CreateClientAsync(server);
        var clientPage = await browser.GetAsync($"/admin/clients/{client.ClientId}");
        await browser.SubmitAsync(clientPage, [], formSelector: "form[action*='handler=Disable']");

        var byUser = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/audit?user={person.UserName}"));
        var userRows = byUser.QuerySelectorAll("#audit tbody tr").Select(r => r.TextContent).ToList();
        // The admin's change, and the sessions it ended for the person: both about them, neither by them.
        Assert.Contains(userRows, r => r.Contains("user.disabled", StringComparison.Ordinal));
        Assert.All(userRows, r => Assert.Contains("user:" + person.Id, r, StringComparison.Ordinal));
        var byClient = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/audit?client={client.ClientId}"));
        var clientRows = byClient.QuerySelectorAll("#audit tbody tr").Select(r => r.TextContent).ToList();
        Assert.Contains(clientRows, r => r.Contains("client.disabled", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7")]
    [InlineData("192.0.2.7", "192.0.2.7")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData(null, "unknown address")]
    public void The_devices_page_shows_IPv4_mapped_addresses_as_IPv4(string? stored, string shown) =>
        Assert.Equal(shown, IdentityServer.Pages.Account.DevicesModel.DisplayAddress(stored));

    [Fact]
    public async Task The_devices_page_gives_machine_readable_times_and_the_signed_out_page_a_way_back()
    {
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login"), user.UserName!);
        var devices = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account/devices"));
        var time = devices.QuerySelector("time[data-local-time]")!;
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", time.GetAttribute("datetime"));
        Assert.EndsWith(" UTC", time.TextContent, StringComparison.Ordinal);
        Assert.NotNull(devices.QuerySelector("script[src='/local-time.js']"));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/local-time.js")).StatusCode);

        var logout = await browser.GetAsync("/account/logout");
        Assert.NotNull((await BrowserSession.ReadPageAsync(logout)).QuerySelector("a[href='/account']"));
        var signedOut = await BrowserSession.ReadPageAsync(await browser.SubmitAsync(logout, []));
        Assert.Equal("You are signed out", signedOut.QuerySelector("h1")?.TextContent);
        Assert.NotNull(signedOut.QuerySelector("a[href='/']"));
    }

    [Fact]
    public async Task The_client_list_is_searched_and_paged()
    {
        using var browser = await SignedInAdminAsync();
        var marker = "srch" + Guid.NewGuid().ToString("N")[..6];
        var first = await TestData.CreateClientAsync(server, clientId: marker + "-a");
        await TestData.CreateClientAsync(server, clientId: marker + "-b");

        var found = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/clients?q={marker}"));
        Assert.Equal([marker + "-a", marker + "-b"], found.QuerySelectorAll("table tbody tr td:first-child a").Select(a => a.TextContent).ToArray());
        var none = await BrowserSession.ReadPageAsync(await browser.GetAsync("/admin/clients?q=no-such-client-" + marker));
        Assert.NotNull(none.QuerySelector("#no-clients"));
        Assert.Equal(first.ClientId, marker + "-a");

        // More clients than a page: a next link that keeps the search, and a previous link on page 2.
        for (var i = 0; i < IdentityServer.Pages.Admin.IndexModel.PageSize; i++)
        {
            await TestData.CreateClientAsync(server, clientId: $"{marker}-p{i:00}");
        }

        var page1 = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/clients?q={marker}"));
        var next = page1.QuerySelector("a[rel=next]")!.GetAttribute("href")!;
        Assert.Contains($"q={marker}", next, StringComparison.Ordinal);
        var page2 = await BrowserSession.ReadPageAsync(await browser.GetAsync(next));
        Assert.Equal(2, page2.QuerySelectorAll("table tbody tr").Length);
        Assert.NotNull(page2.QuerySelector("a[rel=prev]"));
    }

    [Fact]
    public async Task The_audit_log_is_shown_as_readable_rows_and_filtered_by_kind_user_client_and_time()
    {
        using var browser = await SignedInAdminAsync();
        var person = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        var now = server.Time.GetUtcNow().UtcDateTime;
        await server.WithDatabaseAsync(async db =>
        {
            db.AuditEntries.Add(new()
            {
                Id = Guid.NewGuid().ToString("N"),
                Timestamp = now,
                Kind = "sign_in",
                Action = "sign_in.password",
                Outcome = "failure",
                ActorId = person.Id,
                ActorName = person.UserName,
                Target = "user:" + person.Id,
                ClientId = client.ClientId,
                Details = """{"reason":"bad_password","attempts":3}"""
            });
            db.AuditEntries.Add(new()
            {
                Id = Guid.NewGuid().ToString("N"),
                Timestamp = now.AddDays(-3),
                Kind = "consent",
                Action = "consent.granted",
                Outcome = "success",
                ActorId = person.Id,
                ActorName = person.UserName,
                Target = "client:" + client.ClientId,
                ClientId = client.ClientId,
                Details = """{"scopes":["openid","profile"]}"""
            });
            await db.SaveChangesAsync();
        });

        var byUser = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/audit?user={person.UserName}"));
        var rows = byUser.QuerySelectorAll("#audit tbody tr");
        Assert.Equal(2, rows.Length);
        // Readable: the details as name/value pairs, never the raw JSON.
        Assert.Contains("reason", rows[0].QuerySelector("dl.details")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("bad_password", rows[0].TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("{", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("openid, profile", rows[1].TextContent, StringComparison.Ordinal);

        var byKind = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/audit?user={person.Id}&kind=consent"));
        Assert.Contains("consent.granted", Assert.Single(byKind.QuerySelectorAll("#audit tbody tr")).TextContent, StringComparison.Ordinal);
        Assert.Equal("consent", (byKind.QuerySelector("#kind") as IHtmlSelectElement)!.Value);

        var from = now.AddDays(-1).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture);
        var byTime = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/audit?client={client.ClientId}&from={from}"));
        Assert.Contains("sign_in.password", Assert.Single(byTime.QuerySelectorAll("#audit tbody tr")).TextContent, StringComparison.Ordinal);
        var to = now.AddDays(-1).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture);
        var byTo = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/audit?client={client.ClientId}&to={to}"));
        Assert.Contains("consent.granted", Assert.Single(byTo.QuerySelectorAll("#audit tbody tr")).TextContent, StringComparison.Ordinal);

        var nothing = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/audit?client={client.ClientId}&kind=token"));
        Assert.NotNull(nothing.QuerySelector("#no-entries"));
    }

    /// <summary>The fields a browser would post from the page's first POST form: checked boxes only, selects, text areas.</summary>
    private static Dictionary<string, string> FormFields(IHtmlDocument document)
    {
        var form = document.QuerySelectorAll("form").OfType<IHtmlFormElement>().First(f => f.Method.Equals("post", StringComparison.OrdinalIgnoreCase));
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var element in form.Elements)
        {
            switch (element)
            {
                case IHtmlInputElement { Type: "checkbox" } box when !box.IsChecked:
                    break;
                case IHtmlInputElement input when !string.IsNullOrEmpty(input.Name) && input.Type != "submit":
                    fields.TryAdd(input.Name, input.Value);
                    break;
                case IHtmlSelectElement select when !string.IsNullOrEmpty(select.Name):
                    fields[select.Name] = select.Value ?? "";
                    break;
                case IHtmlTextAreaElement area when !string.IsNullOrEmpty(area.Name):
                    fields[area.Name] = area.Value;
                    break;
            }
        }

        return fields;
    }

    private async Task<BrowserSession> SignedInAdminAsync()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        var browser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/admin"), admin.UserName!);
        return browser;
    }
}
