using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;

namespace IdentityServer.Tests.Admin;

/// <summary>The server on a real port for Chromium, with an admin and a person to sign in.</summary>
public sealed class AdminBrowserServer : KestrelServer;

/// <summary>
/// Administration in a real browser (Debian's Chromium): an admin registers a client on the admin pages and copies the secret
/// shown once; then a person signs in to that client through the authorization-code flow, clicking through the pages.
/// </summary>
public sealed class AdminBrowserTests(AdminBrowserServer server) : IClassFixture<AdminBrowserServer>
{
    [Fact]
    public async Task An_admin_registers_a_client_in_the_admin_ui_and_a_person_signs_in_to_it()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        var person = await TestData.CreateUserAsync(server);
        var clientId = "browser-" + Guid.NewGuid().ToString("N")[..8];
        const string redirectUri = "https://browser-app.example/callback";
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);

        // The admin, in their own browser context (own cookies).
        await using var adminContext = await browser.NewContextAsync();
        var page = await adminContext.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var policyViolations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                policyViolations.Add(message.Text);
            }
        };
        await page.GotoAsync(server.Url("/admin"));
        await page.GetByLabel("Username or email").FillAsync(admin.UserName!);
        await page.GetByLabel("Password").FillAsync(TestData.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Register a client" }).ClickAsync();
        await page.GetByLabel("Client ID", new() { Exact = true }).FillAsync(clientId);
        await page.GetByLabel("Display name", new() { Exact = true }).FillAsync("Browser-made app");
        await page.GetByLabel("Client type", new() { Exact = true }).SelectOptionAsync("confidential");
        await page.GetByLabel("Consent", new() { Exact = true }).SelectOptionAsync("explicit");
        await page.GetByLabel("Redirect URIs", new() { Exact = false }).First.FillAsync(redirectUri);
        await page.GetByLabel("Allowed scopes", new() { Exact = false }).FillAsync("openid profile email");
        await page.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Client registered" })).ToBeVisibleAsync();
        var secret = (await page.Locator("#client-secret").TextContentAsync())!.Trim();
        Assert.Equal(43, secret.Length);
        Assert.Empty(policyViolations);

        // The interactive API reference renders under its own page policy: Scalar's script runs and lists the operations.
        await page.GotoAsync(server.Url("/admin/api-reference"));
        await Assertions.Expect(page.GetByText("List clients").First).ToBeVisibleAsync();
        Assert.Empty(policyViolations);
        var row = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        Assert.Equal(ClientSecrets.Hash(secret), row.ClientSecretHash);

        // A person, in a fresh context, signs in to the new client and allows it.
        await using var personContext = await browser.NewContextAsync();
        var personPage = await personContext.NewPageAsync();
        personPage.SetDefaultTimeout(30_000);
        var appReceived = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await personPage.RouteAsync(redirectUri + "**", async route =>
        {
            // The app itself is not running: its redirect URI is caught and answered here.
            appReceived.TrySetResult(route.Request.Url);
            await route.FulfillAsync(new() { Status = 200, ContentType = "text/plain", Body = "the app" });
        });
        var client = new TestClient(clientId, secret, redirectUri, row.Id);
        var (verifier, challenge) = TestData.NewPkce();
        await personPage.GotoAsync(server.Url(OAuthFlow.AuthorizeUrl(client, challenge, scope: "openid profile email")));
        await personPage.GetByLabel("Username or email").FillAsync(person.UserName!);
        await personPage.GetByLabel("Password").FillAsync(TestData.Password);
        await personPage.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(personPage.GetByRole(AriaRole.Heading, new() { Name = "Browser-made app wants to access your account" })).ToBeVisibleAsync();
        await personPage.GetByRole(AriaRole.Button, new() { Name = "Allow", Exact = true }).ClickAsync();
        var callback = new Uri(await appReceived.Task.WaitAsync(TimeSpan.FromSeconds(30)));

        var idToken = await OAuthFlow.RedeemBrowserCallbackAsync(server, client, callback, verifier);
        Assert.Equal(person.Id, idToken.Subject);
        Assert.Equal(clientId, idToken.Audiences.Single());
    }
}

/// <summary>The Users admin pages in a real browser: search, open a person, give a role, and read the result.</summary>
public sealed class AdminUsersBrowserTests(AdminBrowserServer server) : IClassFixture<AdminBrowserServer>
{
    [Fact]
    public async Task An_admin_finds_a_user_gives_a_role_and_adds_a_claim_in_the_users_pages()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        var person = await TestData.CreateUserAsync(server);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var policyViolations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                policyViolations.Add(message.Text);
            }
        };

        await page.GotoAsync(server.Url("/admin"));
        await page.GetByLabel("Username or email").FillAsync(admin.UserName!);
        await page.GetByLabel("Password").FillAsync(TestData.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Admin" }).GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await page.GetByLabel("Search by user name or email").FillAsync(person.UserName!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = person.UserName!, Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "User " + person.UserName })).ToBeVisibleAsync();

        await page.GetByLabel("Roles", new() { Exact = false }).FillAsync("reviewer");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save roles" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The roles were saved");
        await page.GetByLabel("Claim type").FillAsync("department");
        await page.GetByLabel("Claim value").FillAsync("research");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add claim" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The claim 'department' was added");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Remove claim department = research" })).ToBeVisibleAsync();

        Assert.Empty(policyViolations);
        await server.WithDatabaseAsync(async db =>
        {
            Assert.Equal("reviewer", await db.UserRoles.Where(r => r.UserId == person.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name).SingleAsync());
            Assert.Equal("research", await db.UserClaims.Where(c => c.UserId == person.Id && c.ClaimType == "department").Select(c => c.ClaimValue).SingleAsync());
        });
    }
}
