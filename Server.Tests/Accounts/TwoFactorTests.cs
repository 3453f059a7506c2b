using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Accounts;

/// <summary>What a test needs of an enrolment: the shared key (for codes) and the recovery codes shown once.</summary>
public sealed record Enrolment(string Key, IReadOnlyList<string> RecoveryCodes);

/// <summary>Two-step verification: enrolment at /account/security, the sign-in step, recovery codes, lockout, amr/acr.</summary>
public sealed class TwoFactorTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    /// <summary>Signs <paramref name="user"/> in (password only) and turns two-step verification on with a code.</summary>
    public static async Task<Enrolment> EnrolAsync(ServerFactory server, BrowserSession browser, ApplicationUser user, bool signIn = true)
    {
        if (signIn)
        {
            await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Fsecurity"), user.UserName!);
        }

        var page = await browser.GetAsync("/account/security");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var document = await BrowserSession.ReadPageAsync(page);
        var shown = document.QuerySelector("#shared-key")!.TextContent;
        Assert.Matches("^([a-z2-7]{4} )+[a-z2-7]{1,4}$", shown);
        var key = shown.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        var uri = document.QuerySelector("#authenticator-uri")!.GetAttribute("href")!;
        Assert.StartsWith("otpauth://totp/" + new Uri(ServerFactory.Issuer).Host + ":", uri, StringComparison.Ordinal);
        Assert.Contains("secret=" + key, uri, StringComparison.Ordinal);
        Assert.EndsWith("&issuer=" + new Uri(ServerFactory.Issuer).Host + "&digits=6", uri, StringComparison.Ordinal);
        // The same link as a QR code: an SVG image inlined as a data: URI (the CSP allows data: images, no script in it).
        var qr = document.QuerySelector("#authenticator-qr")!.GetAttribute("src")!;
        Assert.StartsWith("data:image/svg+xml;base64,", qr, StringComparison.Ordinal);
        var svg = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(qr["data:image/svg+xml;base64,".Length..]));
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", svg, StringComparison.OrdinalIgnoreCase);

        var enabled = await browser.SubmitAsync(page, new() { ["Code"] = Totp.Code(key, -1) }, formSelector: "form[action*='Enable']");
        var codes = (await BrowserSession.ReadPageAsync(enabled)).QuerySelectorAll("#recovery-codes code").Select(c => c.TextContent).ToList();
        Assert.Equal(10, codes.Count);
        Assert.True(await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.TwoFactorEnabled).SingleAsync()));
        return new Enrolment(key, codes);
    }

    private static async Task<JsonWebToken> IdTokenAsync(BrowserSession browser, TestClient client, ApplicationUser user, Func<HttpResponseMessage, Task<HttpResponseMessage>>? secondStep,
        params (string Name, string Value)[] extra)
    {
        var (verifier, challenge) = TestData.NewPkce();
        var response = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge, "openid profile", extra: extra));
        if (response.RequestMessage!.RequestUri!.AbsolutePath == "/account/login")
        {
            response = await OAuthFlow.SignInAsync(browser, response, user.UserName!);
        }

        if (secondStep is not null)
        {
            Assert.Equal("/account/login-2fa", response.RequestMessage!.RequestUri!.AbsolutePath);
            response = await secondStep(response);
        }

        var callback = OAuthFlow.CallbackParameters(response, client);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        var access = new JsonWebToken(body.GetProperty("access_token").GetString());
        var identity = new JsonWebToken(body.GetProperty("id_token").GetString());
        Assert.Equal(Amr(identity), Amr(access));
        Assert.Equal(identity.GetClaim("acr").Value, access.GetClaim("acr").Value);
        return identity;
    }

    private static string[] Amr(JsonWebToken token) => [.. token.Claims.Where(c => c.Type == "amr").Select(c => c.Value)];

    [Fact]
    public async Task A_password_only_sign_in_says_pwd_and_level_1()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);

        var token = await IdTokenAsync(browser, client, user, null);

        Assert.Equal(["pwd"], Amr(token));
        Assert.Equal("1", token.GetClaim("acr").Value);
    }

    [Fact]
    public async Task Enrolment_needs_a_right_code_and_the_next_sign_in_asks_for_one()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using (var enrolling = new BrowserSession(server))
        {
            await OAuthFlow.SignInAsync(enrolling, await enrolling.GetAsync("/account/login?returnUrl=%2Faccount%2Fsecurity"), user.UserName!);
            var page = await enrolling.GetAsync("/account/security");
            var wrong = await enrolling.SubmitAsync(page, new() { ["Code"] = "000000" }, formSelector: "form[action*='Enable']");
            Assert.Contains("That code did not work", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.False(await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.TwoFactorEnabled).SingleAsync()));
            var enrolment = await EnrolAsync(server, enrolling, user, signIn: false);

            using var browser = new BrowserSession(server);
            var token = await IdTokenAsync(browser, client, user,
                page => browser.SubmitAsync(page, new() { ["Code"] = Totp.Code(enrolment.Key) }));

            Assert.Equal(["pwd", "otp", "mfa"], Amr(token));
            Assert.Equal("2", token.GetClaim("acr").Value);
        }

        var actions = await server.WithDatabaseAsync(db => db.AuditEntries.Where(e => e.Target == "user:" + user.Id).Select(e => e.Action + "/" + e.Outcome).ToListAsync());
        Assert.Contains("two_factor.enabled/success", actions);
        Assert.Contains("two_factor.enabled/failure", actions);
        Assert.Contains("two_factor.recovery_codes_generated/success", actions);
        Assert.Contains("sign_in.two_factor/success", actions);
    }

    [Fact]
    public async Task No_session_exists_between_the_password_and_the_code()
    {
        var user = await TestData.CreateUserAsync(server);
        using (var enrolling = new BrowserSession(server))
        {
            await EnrolAsync(server, enrolling, user);
        }

        using var browser = new BrowserSession(server);
        var step = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount"), user.UserName!);
        Assert.Equal("/account/login-2fa", step.RequestMessage!.RequestUri!.AbsolutePath);

        var account = await browser.GetAsync("/account");
        Assert.Equal("/account/login", account.RequestMessage!.RequestUri!.AbsolutePath);
        // Without the password step first, the code page sends the person back to sign in.
        using var stranger = new BrowserSession(server);
        Assert.Equal("/account/login", (await stranger.GetAsync("/account/login-2fa")).RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task A_recovery_code_signs_in_once()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        Enrolment enrolment;
        using (var enrolling = new BrowserSession(server))
        {
            enrolment = await EnrolAsync(server, enrolling, user);
        }

        using var first = new BrowserSession(server);
        var token = await IdTokenAsync(first, client, user, async page =>
        {
            var recovery = await first.GetAsync((await BrowserSession.ReadPageAsync(page)).QuerySelector("a[href*='login-recovery']")!.GetAttribute("href")!);
            Assert.Equal("/account/login-recovery", recovery.RequestMessage!.RequestUri!.AbsolutePath);
            return await first.SubmitAsync(recovery, new() { ["Code"] = enrolment.RecoveryCodes[0].ToLowerInvariant() });
        });
        Assert.Equal(["pwd", "otp", "mfa"], Amr(token));

        using var second = new BrowserSession(server);
        await OAuthFlow.SignInAsync(second, await second.GetAsync("/account/login?returnUrl=%2Faccount"), user.UserName!);
        var again = await second.SubmitAsync(await second.GetAsync("/account/login-recovery?returnUrl=%2Faccount"), new() { ["Code"] = enrolment.RecoveryCodes[0] });
        Assert.Equal("/account/login-recovery", again.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("That code did not work", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var other = await second.SubmitAsync(again, new() { ["Code"] = enrolment.RecoveryCodes[1] });
        Assert.Equal("/account", other.RequestMessage!.RequestUri!.AbsolutePath);

        Assert.True(await server.WithDatabaseAsync(db => db.AuditEntries.AnyAsync(e => e.Target == "user:" + user.Id && e.Action == "two_factor.recovery_code_used")));
    }

    [Fact]
    public async Task Wrong_codes_lock_the_account_out()
    {
        var user = await TestData.CreateUserAsync(server);
        Enrolment enrolment;
        using (var enrolling = new BrowserSession(server))
        {
            enrolment = await EnrolAsync(server, enrolling, user);
        }

        using var browser = new BrowserSession(server);
        var page = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount"), user.UserName!);
        var right = Totp.Code(enrolment.Key);
        for (var i = 0; i < 5; i++)
        {
            page = await browser.SubmitAsync(page, new() { ["Code"] = right == "123456" ? "654321" : "123456" });
            Assert.Equal("/account/login-2fa", page.RequestMessage!.RequestUri!.AbsolutePath);
        }

        var lockoutEnd = await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.LockoutEnd).SingleAsync());
        Assert.NotNull(lockoutEnd);
        var refused = await browser.SubmitAsync(page, new() { ["Code"] = right });
        Assert.Equal("/account/login-2fa", refused.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("That code did not work", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var reasons = await server.WithDatabaseAsync(db => db.AuditEntries
            .Where(e => e.Target == "user:" + user.Id && e.Action == "sign_in.two_factor").Select(e => e.Details!).ToListAsync());
        Assert.Contains(reasons, r => r.Contains("wrong_code_now_locked_out", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains("\"locked_out\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Turning_it_off_needs_the_password_and_then_a_password_signs_in_alone()
    {
        var user = await TestData.CreateUserAsync(server);
        using (var browser = new BrowserSession(server))
        {
            await EnrolAsync(server, browser, user);
            var page = await browser.GetAsync("/account/security");
            var wrong = await browser.SubmitAsync(page, new() { ["Password"] = "not the password" }, formSelector: "form[action*='Disable']");
            Assert.Contains("That did not work", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            var off = await browser.SubmitAsync(wrong, new() { ["Password"] = TestData.Password }, formSelector: "form[action*='Disable']");
            Assert.Contains("Two-step verification is off.", await off.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            // This browser's session stays.
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account")).StatusCode);
        }

        Assert.False(await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.TwoFactorEnabled).SingleAsync()));
        using var later = new BrowserSession(server);
        var signedIn = await OAuthFlow.SignInAsync(later, await later.GetAsync("/account/login?returnUrl=%2Faccount"), user.UserName!);
        Assert.Equal("/account", signedIn.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.True(await server.WithDatabaseAsync(db => db.AuditEntries.AnyAsync(e => e.Target == "user:" + user.Id && e.Action == "two_factor.disabled" && e.Outcome == "success")));
    }

    [Fact]
    public async Task New_recovery_codes_replace_the_old_ones()
    {
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var enrolment = await EnrolAsync(server, browser, user);

        var renewed = await browser.SubmitAsync(await browser.GetAsync("/account/security"), [], formSelector: "form[action*='RecoveryCodes']");
        var codes = (await BrowserSession.ReadPageAsync(renewed)).QuerySelectorAll("#recovery-codes code").Select(c => c.TextContent).ToList();

        Assert.Equal(10, codes.Count);
        Assert.Empty(codes.Intersect(enrolment.RecoveryCodes));
    }

    [Fact]
    public async Task Acr_values_2_for_an_account_without_a_second_factor_goes_on_at_level_1()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);

        var token = await IdTokenAsync(browser, client, user, null, ("acr_values", "2"));

        Assert.Equal("1", token.GetClaim("acr").Value);
    }

    [Fact]
    public async Task Acr_values_2_over_a_single_factor_session_of_a_two_factor_account_signs_in_again_with_the_code()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        Assert.Equal("1", (await IdTokenAsync(browser, client, user, null)).GetClaim("acr").Value);
        // Two-step verification turned on elsewhere, after this single-factor session began.
        string key;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var stored = (await users.FindByIdAsync(user.Id))!;
            await users.ResetAuthenticatorKeyAsync(stored);
            await users.SetTwoFactorEnabledAsync(stored, true);
            key = (await users.GetAuthenticatorKeyAsync(stored))!;
        }

        // Without acr_values the session still answers; with acr_values=2 the person signs in again, with the code.
        Assert.Equal("1", (await IdTokenAsync(browser, client, user, null)).GetClaim("acr").Value);
        var (_, challenge) = TestData.NewPkce();
        var none = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge, "openid", extra: [("acr_values", "2 1"), ("prompt", "none")]));
        Assert.Equal("login_required", OAuthFlow.CallbackParameters(none, client)["error"]);
        var token = await IdTokenAsync(browser, client, user, page => browser.SubmitAsync(page, new() { ["Code"] = Totp.Code(key) }), ("acr_values", "2 1"));

        Assert.Equal("2", token.GetClaim("acr").Value);
        Assert.Equal(["pwd", "otp", "mfa"], Amr(token));
    }

    [Fact]
    public async Task Discovery_lists_the_acr_levels_and_the_claims()
    {
        using var http = server.CreateClient();
        using var discovery = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/.well-known/openid-configuration"));

        Assert.Equal(["1", "2"], discovery.RootElement.GetProperty("acr_values_supported").EnumerateArray().Select(e => e.GetString()!));
        var claims = discovery.RootElement.GetProperty("claims_supported").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("acr", claims);
        Assert.Contains("amr", claims);
    }
}
