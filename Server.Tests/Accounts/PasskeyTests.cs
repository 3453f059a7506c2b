using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Accounts.Passkeys;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Accounts;

/// <summary>
/// Passkeys over HTTP: the options the pages hand to the browser, refusals of answers that do not hold, the second step
/// an account with a passkey asks for, and the account page's list, rename and remove (the real ceremonies run in
/// Chromium: <see cref="PasskeyBrowserTests"/>).
/// </summary>
public sealed class PasskeyTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Sign_in_options_name_the_issuer_as_relying_party_ask_for_any_passkey_and_are_not_cached()
    {
        using var browser = new BrowserSession(server);
        var (status, json, response) = await PostOptionsAsync(browser, "/account/login", "#passkey-sign-in", "/account/login?handler=PasskeyOptions");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Equal(new Uri(ServerFactory.Issuer).Host, json.GetProperty("rpId").GetString());
        Assert.Equal(32, WebEncoders.Base64UrlDecode(json.GetProperty("challenge").GetString()!).Length);
        Assert.Equal("preferred", json.GetProperty("userVerification").GetString());
        Assert.True(!json.TryGetProperty("allowCredentials", out var allowed) || allowed.GetArrayLength() == 0);

        // Without the page's antiforgery token, nothing.
        using var stranger = new BrowserSession(server);
        var forged = await stranger.Http.PostAsync("/account/login?handler=PasskeyOptions", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
    }

    [Fact]
    public async Task An_answer_that_does_not_hold_is_refused_on_the_page_and_audited_and_signs_nobody_in()
    {
        using var browser = new BrowserSession(server);
        var page = await browser.GetAsync("/account/login?returnUrl=%2Faccount");
        var before = await FailuresAsync();

        // No ceremony begun in this browser.
        var refused = await browser.SubmitAsync(page, new() { ["Credential"] = "{}" }, formSelector: "#passkey-sign-in");
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("That passkey did not sign you in", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A ceremony begun, and an answer that is not a credential at all; then one with a made-up signature.
        await PostOptionsAsync(browser, "/account/login", "#passkey-sign-in", "/account/login?handler=PasskeyOptions");
        refused = await browser.SubmitAsync(page, new() { ["Credential"] = "not json" }, formSelector: "#passkey-sign-in");
        Assert.Contains("That passkey did not sign you in", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await PostOptionsAsync(browser, "/account/login", "#passkey-sign-in", "/account/login?handler=PasskeyOptions");
        refused = await browser.SubmitAsync(page, new() { ["Credential"] = MadeUpAssertion() }, formSelector: "#passkey-sign-in");
        Assert.Contains("That passkey did not sign you in", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(before + 3, await FailuresAsync());
        Assert.Equal("/account/login", (await browser.GetAsync("/account")).RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task An_account_with_a_passkey_asks_for_a_second_step_after_the_password_and_offers_its_passkeys_only()
    {
        var user = await TestData.CreateUserAsync(server);
        var credentialId = await AddPasskeyAsync(user, "Phone");
        using var browser = new BrowserSession(server);

        var step = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount"), user.UserName!);

        Assert.Equal("/account/login-2fa", step.RequestMessage!.RequestUri!.AbsolutePath);
        var document = await BrowserSession.ReadPageAsync(step);
        Assert.NotNull(document.QuerySelector("#passkey-second-step"));
        // No authenticator app: no code field (a code would be refused anyway).
        Assert.Null(document.QuerySelector("input[name='Code']"));
        var (status, json, _) = await PostOptionsAsync(browser, step, "#passkey-second-step", "/account/login-2fa?handler=PasskeyOptions");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(new Uri(ServerFactory.Issuer).Host, json.GetProperty("rpId").GetString());
        var allowed = json.GetProperty("allowCredentials").EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.Equal([WebEncoders.Base64UrlEncode(credentialId)], allowed);

        // An answer that does not hold counts toward the lockout, as a wrong code does, and the person stays at the step.
        var refused = await browser.SubmitAsync(step, new() { ["Credential"] = MadeUpAssertion(credentialId) }, formSelector: "#passkey-second-step");
        Assert.Contains("That passkey did not work", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.AccessFailedCount).SingleAsync()));
        Assert.Equal("/account/login", (await browser.GetAsync("/account")).RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task Passkeys_are_listed_renamed_and_removed_by_their_owner_only()
    {
        var owner = await TestData.CreateUserAsync(server);
        var other = await TestData.CreateUserAsync(server);
        using var ownerBrowser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(ownerBrowser, await ownerBrowser.GetAsync("/account/login?returnUrl=%2Faccount"), owner.UserName!);
        var id = WebEncoders.Base64UrlEncode(await AddPasskeyAsync(owner, "Old laptop"));
        using var otherBrowser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(otherBrowser, await otherBrowser.GetAsync("/account/login?returnUrl=%2Faccount"), other.UserName!);

        // Another account's id: not found, whether renamed or removed.
        var security = await otherBrowser.GetAsync("/account/security");
        var renamed = await PostFormAsync(otherBrowser, security, "/account/security?handler=RenamePasskey", new() { ["PasskeyId"] = id, ["PasskeyName"] = "Mine now" });
        Assert.Contains("could not be renamed", await renamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var forged = await PostFormAsync(otherBrowser, security, "/account/security?handler=RemovePasskey", new() { ["PasskeyId"] = id });
        Assert.Contains("That passkey is not one of yours.", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Old laptop", await PasskeyNameAsync(owner, id));

        // The owner: listed on the account page and the security page, renamed, removed.
        Assert.Contains("Old laptop", (await BrowserSession.ReadPageAsync(await ownerBrowser.GetAsync("/account"))).QuerySelector("#account-passkeys")!.TextContent, StringComparison.Ordinal);
        var ownPage = await ownerBrowser.GetAsync("/account/security");
        var afterRename = await ownerBrowser.SubmitAsync(ownPage, new() { ["PasskeyName"] = "  Work laptop\u0007 " }, formSelector: "form[action*='RenamePasskey']");
        Assert.Equal("Work laptop", (await BrowserSession.ReadPageAsync(afterRename)).QuerySelector("#passkey-list .passkey-name")!.TextContent);
        var stampBefore = await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == owner.Id).Select(u => u.SecurityStamp).SingleAsync());
        var afterRemove = await ownerBrowser.SubmitAsync(afterRename, [], formSelector: "form[action*='RemovePasskey']");
        var text = await afterRemove.Content.ReadAsStringAsync();
        Assert.Contains("The passkey was removed", text, StringComparison.Ordinal);
        Assert.Contains("You have no passkeys.", text, StringComparison.Ordinal);
        Assert.Null(await PasskeyNameAsync(owner, id));
        Assert.NotEqual(stampBefore, await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == owner.Id).Select(u => u.SecurityStamp).SingleAsync()));
        // The owner's own session stays; the audit says what happened, never whose passkey was tried by the other.
        Assert.Equal("/account", (await ownerBrowser.GetAsync("/account")).RequestMessage!.RequestUri!.AbsolutePath);
        var actions = await server.WithDatabaseAsync(db => db.AuditEntries.Where(e => e.ActorId == owner.Id || e.ActorId == other.Id)
            .Select(e => e.ActorId + ":" + e.Action + "/" + e.Outcome).ToListAsync());
        Assert.Contains(owner.Id + ":passkey.renamed/success", actions);
        Assert.Contains(owner.Id + ":passkey.removed/success", actions);
        Assert.Contains(other.Id + ":passkey.removed/failure", actions);
    }

    [Fact]
    public async Task An_authenticator_code_signs_in_once()
    {
        var user = await TestData.CreateUserAsync(server);
        Enrolment enrolment;
        using (var enrolling = new BrowserSession(server))
        {
            enrolment = await TwoFactorTests.EnrolAsync(server, enrolling, user);
        }

        var code = Totp.Code(enrolment.Key);
        using var first = new BrowserSession(server);
        var step = await OAuthFlow.SignInAsync(first, await first.GetAsync("/account/login?returnUrl=%2Faccount"), user.UserName!);
        var signedIn = await first.SubmitAsync(step, new() { ["Code"] = code });
        Assert.Equal("/account", signedIn.RequestMessage!.RequestUri!.AbsolutePath);

        // The same code, still inside its window, from someone who watched it typed: refused.
        using var second = new BrowserSession(server);
        step = await OAuthFlow.SignInAsync(second, await second.GetAsync("/account/login?returnUrl=%2Faccount"), user.UserName!);
        var replayed = await second.SubmitAsync(step, new() { ["Code"] = code });
        Assert.Equal("/account/login-2fa", replayed.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("That code did not work", await replayed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x05, true)] // UP and UV
    [InlineData(0x01, false)] // UP only
    public void User_verification_is_read_from_the_flags_of_the_authenticator_data(byte flags, bool verified)
    {
        var data = new byte[37];
        data[32] = flags;
        var json = JsonSerializer.Serialize(new { response = new { authenticatorData = WebEncoders.Base64UrlEncode(data) } });

        Assert.Equal(verified, PasskeyAssertionFlags.UserVerified(json));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"response\":{\"authenticatorData\":\"***\"}}")]
    [InlineData("{\"response\":{\"authenticatorData\":\"AAAA\"}}")]
    [InlineData("{}")]
    public void Unreadable_authenticator_data_counts_as_not_verified(string json) =>
        Assert.False(PasskeyAssertionFlags.UserVerified(json));

    [Theory]
    [InlineData("https://id.example.com", false, null, true)]
    [InlineData("https://id.example.com", false, "https://id.example.com", true)]
    [InlineData("https://evil.example", false, null, false)]
    [InlineData("https://sub.id.example.com", false, null, false)]
    [InlineData("http://id.example.com", false, null, false)]
    [InlineData("https://id.example.com:8443", false, null, false)]
    [InlineData("https://id.example.com", true, "https://evil.example", false)]
    [InlineData("https://id.example.com", false, "https://evil.example", false)]
    [InlineData(null, false, null, false)]
    public void Only_the_issuers_own_top_level_origin_is_accepted(string? origin, bool crossOrigin, string? topOrigin, bool accepted) =>
        Assert.Equal(accepted, PasskeySetup.IsOwnOrigin(origin, crossOrigin, topOrigin, "https://id.example.com"));

    private Task<int> FailuresAsync() =>
        server.WithDatabaseAsync(db => db.AuditEntries.CountAsync(e => e.Action == "sign_in.passkey" && e.Outcome == "failure"));

    private async Task<byte[]> AddPasskeyAsync(ApplicationUser user, string name)
    {
        var credentialId = RandomNumberGenerator.GetBytes(32);
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var stored = await users.FindByIdAsync(user.Id);
        var result = await users.AddOrUpdatePasskeyAsync(stored!, new UserPasskeyInfo(credentialId, RandomNumberGenerator.GetBytes(77), DateTimeOffset.UtcNow,
            signCount: 0, transports: ["internal"], isUserVerified: true, isBackupEligible: false, isBackedUp: false,
            attestationObject: [0xa0], clientDataJson: "{}"u8.ToArray())
        { Name = name });
        Assert.True(result.Succeeded);
        return credentialId;
    }

    private async Task<string?> PasskeyNameAsync(ApplicationUser user, string id)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var stored = await users.FindByIdAsync(user.Id);
        return (await users.GetPasskeyAsync(stored!, WebEncoders.Base64UrlDecode(id)))?.Name;
    }

    /// <summary>An assertion shaped like a browser's, signed by nobody.</summary>
    private static string MadeUpAssertion(byte[]? credentialId = null)
    {
        var id = WebEncoders.Base64UrlEncode(credentialId ?? RandomNumberGenerator.GetBytes(32));
        var clientData = JsonSerializer.SerializeToUtf8Bytes(new { type = "webauthn.get", challenge = "AAAA", origin = ServerFactory.Issuer });
        return JsonSerializer.Serialize(new
        {
            id,
            rawId = id,
            type = "public-key",
            clientExtensionResults = new { },
            response = new
            {
                clientDataJSON = WebEncoders.Base64UrlEncode(clientData),
                authenticatorData = WebEncoders.Base64UrlEncode(new byte[37]),
                signature = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(64)),
                userHandle = WebEncoders.Base64UrlEncode("nobody"u8.ToArray()),
            },
        });
    }

    private static async Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> PostOptionsAsync(
        BrowserSession browser, string pagePath, string formSelector, string optionsPath) =>
        await PostOptionsAsync(browser, await browser.GetAsync(pagePath), formSelector, optionsPath);

    private static async Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> PostOptionsAsync(
        BrowserSession browser, HttpResponseMessage page, string formSelector, string optionsPath)
    {
        var document = await BrowserSession.ReadPageAsync(page);
        var token = document.QuerySelector(formSelector + " input[name='__RequestVerificationToken']")!.GetAttribute("value")!;
        var response = await browser.Http.PostAsync(optionsPath, new FormUrlEncodedContent([new("__RequestVerificationToken", token)]));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.IsSuccessStatusCode ? JsonDocument.Parse(text).RootElement.Clone() : default, response);
    }

    private static async Task<HttpResponseMessage> PostFormAsync(BrowserSession browser, HttpResponseMessage page, string path, Dictionary<string, string> values)
    {
        var document = await BrowserSession.ReadPageAsync(page);
        var token = document.QuerySelector("input[name='__RequestVerificationToken']")!.GetAttribute("value")!;
        return await browser.Http.PostAsync(path, new FormUrlEncodedContent([new("__RequestVerificationToken", token), .. values]));
    }
}
