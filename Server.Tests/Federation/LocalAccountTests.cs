using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// Local accounts: registration, the forms' autocomplete attributes, password rules, lockout, and failure messages
/// that are the same whether or not the account exists.
/// </summary>
[Collection(FederationHost.Name)]
public sealed class LocalAccountTests(FederationServer server)
{
    private static string NewName() => "reg" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<string?> AlertAsync(HttpResponseMessage page) =>
        (await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]")?.TextContent.Trim();

    [Fact]
    public async Task A_person_registers_from_an_apps_sign_in_page_and_the_app_gets_their_new_account()
    {
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var signInPage = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge));
        var registerLink = (await BrowserSession.ReadPageAsync(signInPage)).QuerySelector("a[href^='/account/register']")!.GetAttribute("href")!;
        var registerPage = await browser.GetAsync(registerLink);
        var userName = NewName();

        var response = await browser.SubmitAsync(registerPage, new()
        {
            ["UserName"] = userName,
            ["Email"] = userName + "@example.org",
            ["Name"] = "Reggie Registered",
            ["Password"] = TestData.Password,
            ["ConfirmPassword"] = TestData.Password,
        });

        var callback = OAuthFlow.CallbackParameters(response, client);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        var idToken = new JsonWebToken(body.GetProperty("id_token").GetString());
        var user = await server.WithDatabaseAsync(db => db.Users.SingleAsync(u => u.UserName == userName));
        Assert.Equal(user.Id, idToken.Subject);
        Assert.Equal("Reggie Registered", idToken.GetPayloadValue<string>("name"));
        // Nobody checked the address: it is released as unverified.
        Assert.False(idToken.GetPayloadValue<bool>("email_verified"));
        Assert.NotEqual(TestData.Password, user.PasswordHash);
        Assert.StartsWith("AQAAAA", user.PasswordHash, StringComparison.Ordinal); // Identity's v3 hash format (PBKDF2)
    }

    [Fact]
    public async Task The_forms_carry_the_standard_autocomplete_attributes()
    {
        using var browser = new BrowserSession(server);
        var signIn = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account/login"));
        var register = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account/register"));

        // "webauthn" lets the browser offer passkeys in the username field's autofill (conditional mediation).
        Assert.Equal("username webauthn", signIn.QuerySelector("input[name=Username]")!.GetAttribute("autocomplete"));
        Assert.Equal("current-password", signIn.QuerySelector("input[name=Password]")!.GetAttribute("autocomplete"));
        Assert.Equal("username", register.QuerySelector("input[name=UserName]")!.GetAttribute("autocomplete"));
        Assert.Equal("email", register.QuerySelector("input[name=Email]")!.GetAttribute("autocomplete"));
        Assert.Equal("new-password", register.QuerySelector("input[name=Password]")!.GetAttribute("autocomplete"));
        Assert.Equal("new-password", register.QuerySelector("input[name=ConfirmPassword]")!.GetAttribute("autocomplete"));
        // Every provider is a button of a plain form POST (no script needed), with the antiforgery token.
        var providers = signIn.QuerySelector("form.providers")!;
        Assert.Equal("post", providers.GetAttribute("method"));
        Assert.NotNull(providers.QuerySelector("input[name=__RequestVerificationToken]"));
        Assert.Equal(["Google", "GitHub", "Discord", "Microsoft"], providers.QuerySelectorAll("button[name=provider]").Select(b => b.GetAttribute("value")!).ToArray());
        // The only script is the passkey helper, loaded from a file (the CSP allows no inline script); signing in
        // with a password or a provider needs none.
        Assert.All(signIn.QuerySelectorAll("script"), script => Assert.Equal("/passkeys.js", new Uri(new Uri("https://x/"), script.GetAttribute("src")!).AbsolutePath));
    }

    [Fact]
    public async Task A_short_password_and_a_taken_user_name_are_refused_without_creating_anyone()
    {
        var existing = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var email = NewName() + "@example.org";

        var shortPassword = await browser.SubmitAsync(await browser.GetAsync("/account/register"), new()
        {
            ["UserName"] = NewName(),
            ["Email"] = email,
            ["Password"] = "short",
            ["ConfirmPassword"] = "short",
        });
        var taken = await browser.SubmitAsync(await browser.GetAsync("/account/register"), new()
        {
            ["UserName"] = existing.UserName!,
            ["Email"] = email,
            ["Password"] = TestData.Password,
            ["ConfirmPassword"] = TestData.Password,
        });

        Assert.Contains("at least 10 characters", await AlertAsync(shortPassword), StringComparison.Ordinal);
        Assert.Contains("user name is taken", await AlertAsync(taken), StringComparison.Ordinal);
        Assert.Equal(0, await FederatedFlow.UsersWithEmailAsync(server, email));
    }

    [Fact]
    public async Task Registering_with_an_email_another_account_uses_does_not_say_so()
    {
        var existing = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var userName = NewName();

        var response = await browser.SubmitAsync(await browser.GetAsync("/account/register"), new()
        {
            ["UserName"] = userName,
            ["Email"] = existing.Email!,
            ["Password"] = TestData.Password,
            ["ConfirmPassword"] = TestData.Password,
        });

        Assert.Null(await AlertAsync(response));
        var created = await server.WithDatabaseAsync(db => db.Users.SingleAsync(u => u.UserName == userName));
        Assert.False(created.EmailConfirmed);
        // Signing in with that email still finds the account whose address is verified.
        using var other = new BrowserSession(server);
        var page = await OAuthFlow.SignInAsync(other, await other.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), existing.Email!);
        Assert.Equal("/account/logins", page.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task Unknown_account_wrong_password_and_lockout_all_get_the_same_message()
    {
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        async Task<HttpResponseMessage> TryAsync(string name, string password) =>
            await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), name, password);

        var unknown = await AlertAsync(await TryAsync("nobody-" + NewName(), TestData.Password));
        var wrong = await AlertAsync(await TryAsync(user.UserName!, "wrong password 1"));
        for (var i = 2; i <= 5; i++)
        {
            await TryAsync(user.UserName!, "wrong password " + i);
        }

        var lockedOutWithTheRightPassword = await TryAsync(user.UserName!, TestData.Password);

        Assert.NotNull(unknown);
        Assert.Equal(unknown, wrong);
        Assert.Equal(unknown, await AlertAsync(lockedOutWithTheRightPassword));
        Assert.Equal("/account/login", lockedOutWithTheRightPassword.RequestMessage!.RequestUri!.AbsolutePath);
        // Identity's lockout runs on the system clock, not the host's TimeProvider, so its end is not shown here.
    }
}
