using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace IdentityServer.Tests.Accounts;

/// <summary>
/// Account email over real SMTP (a <see cref="MailCatcher"/> on loopback): verification at registration, forgot and reset
/// password, password change and set, email change, and the security notices.
/// </summary>
[Collection(EmailHost.Name)]
public sealed class AccountEmailTests(EmailServer server)
{
    private static string NewName() => "mail" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The path and query of a link from an email, checked to be absolute on the configured issuer.</summary>
    private static string OnThisServer(string link)
    {
        Assert.StartsWith(ServerFactory.Issuer + "/", link, StringComparison.Ordinal);
        return new Uri(link).PathAndQuery;
    }

    private static async Task<string?> TextAsync(HttpResponseMessage page, string selector) =>
        (await BrowserSession.ReadPageAsync(page)).QuerySelector(selector)?.TextContent.Trim();

    private async Task<BrowserSession> SignedInAsync(ApplicationUser user, string password = TestData.Password)
    {
        var browser = new BrowserSession(server);
        var page = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount"), user.UserName!, password);
        Assert.Equal("/account", page.RequestMessage!.RequestUri!.AbsolutePath);
        return browser;
    }

    private static async Task<bool> IsSignedInAsync(BrowserSession browser)
    {
        var page = await browser.GetAsync("/account");
        return page.StatusCode == HttpStatusCode.OK && page.RequestMessage!.RequestUri!.AbsolutePath == "/account";
    }

    private Task<ApplicationUser> ReloadAsync(ApplicationUser user) =>
        server.WithDatabaseAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.Id));

    private Task<bool> AuditedAsync(ApplicationUser? user, string action, string outcome = AuditOutcomes.Success) =>
        server.WithDatabaseAsync(db => db.AuditEntries.AnyAsync(e => e.Kind == AuditKinds.Account && e.Action == action && e.Outcome == outcome
            && e.Target == (user == null ? "user:unknown" : "user:" + user.Id)));

    private async Task<MimeMessage> RequestResetAsync(string email)
    {
        using var browser = new BrowserSession(server);
        var answer = await browser.SubmitAsync(await browser.GetAsync("/account/forgot-password"), new() { ["Email"] = email });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return await server.Mail.WaitForAsync(email, "Reset your password");
    }

    private static async Task<HttpResponseMessage> ResetAsync(BrowserSession browser, string link, string newPassword)
    {
        var form = await browser.GetAsync(OnThisServer(link));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        return await browser.SubmitAsync(form, new() { ["NewPassword"] = newPassword, ["ConfirmPassword"] = newPassword });
    }

    [Fact]
    public async Task Registering_sends_a_verification_link_to_the_address_and_opening_it_verifies_the_address()
    {
        using var browser = new BrowserSession(server);
        var userName = NewName();
        var email = userName + "@example.org";
        await browser.SubmitAsync(await browser.GetAsync("/account/register"), new()
        {
            ["UserName"] = userName,
            ["Email"] = email,
            ["Password"] = TestData.Password,
            ["ConfirmPassword"] = TestData.Password,
        });
        var user = await server.WithDatabaseAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.UserName == userName));
        Assert.False(user.EmailConfirmed);

        var message = await server.Mail.WaitForAsync(email, "Confirm your email address");
        Assert.Equal("no-reply@id.test.example", message.From.Mailboxes.Single().Address);
        Assert.Contains("<a href=", message.HtmlBody, StringComparison.Ordinal);
        var link = MailCatcher.LinkIn(message, ServerFactory.Issuer + "/account/confirm-email?");
        // Opening the link changes nothing by itself (mail scanners fetch links); its button does.
        using var elsewhere = new BrowserSession(server);
        var page = await elsewhere.GetAsync(OnThisServer(link));
        Assert.False((await ReloadAsync(user)).EmailConfirmed);
        var done = await elsewhere.SubmitAsync(page, []);

        Assert.Equal("Your email address is verified.", await TextAsync(done, "[role=status]"));
        Assert.True((await ReloadAsync(user)).EmailConfirmed);
        Assert.True(await AuditedAsync(user, "email.verified"));
    }

    [Fact]
    public async Task Forgot_password_answers_the_same_page_for_a_known_and_an_unknown_address_and_mails_only_the_known_one()
    {
        var user = await TestData.CreateUserAsync(server);
        var unknown = NewName() + "@example.net";
        using var browser = new BrowserSession(server);

        var forKnown = await browser.SubmitAsync(await browser.GetAsync("/account/forgot-password"), new() { ["Email"] = user.Email! });
        var forUnknown = await browser.SubmitAsync(await browser.GetAsync("/account/forgot-password"), new() { ["Email"] = unknown });

        Assert.Equal(HttpStatusCode.OK, forKnown.StatusCode);
        Assert.Equal(forKnown.StatusCode, forUnknown.StatusCode);
        Assert.Equal(await forKnown.Content.ReadAsStringAsync(), await forUnknown.Content.ReadAsStringAsync());
        Assert.Contains("If an account uses this address", await TextAsync(forKnown, "#answer"), StringComparison.Ordinal);
        await server.Mail.WaitForAsync(user.Email!, "Reset your password");
        Assert.Empty(server.Mail.To(unknown));
        Assert.True(await AuditedAsync(user, "password.reset_requested"));
        Assert.True(await AuditedAsync(null, "password.reset_requested", AuditOutcomes.Failure));
    }

    [Fact]
    public async Task An_unverified_address_gets_no_reset_link()
    {
        var user = await TestData.CreateUserAsync(server);
        await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.EmailConfirmed, false)));
        var other = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);

        await browser.SubmitAsync(await browser.GetAsync("/account/forgot-password"), new() { ["Email"] = user.Email! });
        // A later request's message arrives after it, so the first one's absence is not a matter of waiting.
        await RequestResetAsync(other.Email!);

        Assert.Empty(server.Mail.To(user.Email!));
    }

    [Fact]
    public async Task A_reset_link_sets_a_new_password_once_ends_every_session_and_sends_a_notice()
    {
        var user = await TestData.CreateUserAsync(server);
        using var signedIn = await SignedInAsync(user);
        var link = MailCatcher.LinkIn(await RequestResetAsync(user.Email!), ServerFactory.Issuer + "/account/reset-password?");
        const string NewPassword = "a brand new passphrase for mail";

        using var browser = new BrowserSession(server);
        var done = await ResetAsync(browser, link, NewPassword);
        Assert.Contains("Your password is changed", await TextAsync(done, "[role=status]"), StringComparison.Ordinal);

        // The link worked once: the new security stamp refuses it now.
        using var again = new BrowserSession(server);
        var second = await ResetAsync(again, link, "yet another passphrase here");
        Assert.Contains("does not work", await TextAsync(second, "[role=alert]"), StringComparison.Ordinal);
        Assert.True(await AuditedAsync(user, "password.reset", AuditOutcomes.Failure));

        Assert.False(await IsSignedInAsync(signedIn), "the session from before the reset ended");
        using var withOld = new BrowserSession(server);
        var refused = await OAuthFlow.SignInAsync(withOld, await withOld.GetAsync("/account/login"), user.UserName!);
        Assert.NotNull(await TextAsync(refused, "[role=alert]"));
        using var withNew = await SignedInAsync(user, NewPassword);
        await server.Mail.WaitForAsync(user.Email!, "Your password was changed");
        Assert.True(await AuditedAsync(user, "password.reset"));
    }

    [Fact]
    public async Task Changing_the_password_needs_the_current_one_ends_the_other_sessions_and_keeps_this_one()
    {
        var user = await TestData.CreateUserAsync(server);
        using var here = await SignedInAsync(user);
        using var elsewhere = await SignedInAsync(user);
        const string NewPassword = "changed passphrase of some length";

        var wrong = await here.SubmitAsync(await here.GetAsync("/account/password"), new()
        {
            ["CurrentPassword"] = "not the password",
            ["NewPassword"] = NewPassword,
            ["ConfirmPassword"] = NewPassword,
        });
        Assert.Equal("Your current password is not right.", await TextAsync(wrong, "[role=alert] li"));
        Assert.True(await IsSignedInAsync(elsewhere));

        var changed = await here.SubmitAsync(await here.GetAsync("/account/password"), new()
        {
            ["CurrentPassword"] = TestData.Password,
            ["NewPassword"] = NewPassword,
            ["ConfirmPassword"] = NewPassword,
        });

        Assert.Contains("Your password is saved", await TextAsync(changed, "[role=status]"), StringComparison.Ordinal);
        Assert.True(await IsSignedInAsync(here), "this session stays");
        Assert.False(await IsSignedInAsync(elsewhere), "the other session ended at once");
        Assert.Equal(1, await server.WithDatabaseAsync(db => db.Sessions.CountAsync(s => s.Subject == user.Id)));
        // Past Identity's stamp re-validation too: this session carries the new stamp.
        server.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.True(await IsSignedInAsync(here));
        using var withNew = await SignedInAsync(user, NewPassword);
        await server.Mail.WaitForAsync(user.Email!, "Your password was changed");
        Assert.True(await AuditedAsync(user, "password.changed"));
        Assert.True(await AuditedAsync(user, "password.changed", AuditOutcomes.Failure));
    }

    [Fact]
    public async Task An_account_without_a_password_is_offered_to_set_one()
    {
        var user = await TestData.CreateUserAsync(server);
        using var browser = await SignedInAsync(user);
        // As if it signed in through a provider only: no password (the stamp changes, re-validated only later).
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            Assert.True((await users.RemovePasswordAsync((await users.FindByIdAsync(user.Id))!)).Succeeded);
        }

        var page = await browser.GetAsync("/account/password");
        var document = await BrowserSession.ReadPageAsync(page);
        Assert.Equal("Set a password", document.QuerySelector("h1")!.TextContent);
        Assert.Null(document.QuerySelector("input[name=CurrentPassword]"));
        const string NewPassword = "first password of this account";
        var set = await browser.SubmitAsync(page, new() { ["NewPassword"] = NewPassword, ["ConfirmPassword"] = NewPassword });

        Assert.Contains("Your password is saved", await TextAsync(set, "[role=status]"), StringComparison.Ordinal);
        using var withNew = await SignedInAsync(user, NewPassword);
        Assert.True(await AuditedAsync(user, "password.set"));
    }

    [Fact]
    public async Task An_email_change_applies_only_once_the_new_address_confirms_and_the_old_address_is_told()
    {
        var user = await TestData.CreateUserAsync(server);
        var oldEmail = user.Email!;
        var newEmail = NewName() + "@new.example";
        using var browser = await SignedInAsync(user);

        var asked = await browser.SubmitAsync(await browser.GetAsync("/account/email"), new() { ["NewEmail"] = newEmail }, formSelector: "#change");
        Assert.Contains("We sent a link to " + newEmail, await TextAsync(asked, "[role=status]"), StringComparison.Ordinal);
        var message = await server.Mail.WaitForAsync(newEmail, "Confirm your new email address");
        Assert.Equal(oldEmail, (await ReloadAsync(user)).Email);
        Assert.True(await AuditedAsync(user, "email.change_requested"));

        var link = MailCatcher.LinkIn(message, ServerFactory.Issuer + "/account/confirm-email-change?");
        var confirmPage = await browser.GetAsync(OnThisServer(link));
        Assert.Equal(oldEmail, (await ReloadAsync(user)).Email);
        var done = await browser.SubmitAsync(confirmPage, []);

        Assert.Equal("Your email address is now " + newEmail + ".", await TextAsync(done, "[role=status]"));
        var changed = await ReloadAsync(user);
        Assert.Equal(newEmail, changed.Email);
        Assert.True(changed.EmailConfirmed);
        var notice = await server.Mail.WaitForAsync(oldEmail, "Your email address was changed");
        Assert.DoesNotContain(newEmail, notice.TextBody, StringComparison.Ordinal);
        Assert.True(await AuditedAsync(user, "email.changed"));
        // The browser that confirmed stays signed in; the link works once.
        server.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.True(await IsSignedInAsync(browser));
        var again = await browser.SubmitAsync(await browser.GetAsync(OnThisServer(link)), []);
        Assert.Contains("does not work", await TextAsync(again, "[role=alert]"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_account_home_is_linked_from_the_start_page_and_links_every_section()
    {
        var user = await TestData.CreateUserAsync(server);
        using var browser = await SignedInAsync(user);

        var start = await BrowserSession.ReadPageAsync(await browser.GetAsync("/"));
        Assert.NotNull(start.QuerySelector("a[href='/account']"));
        var home = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account"));
        var links = home.QuerySelectorAll("a").Select(a => a.GetAttribute("href")).ToList();
        Assert.Contains("/account/profile", links);
        Assert.Contains("/account/password", links);
        Assert.Contains("/account/security", links);
        Assert.Contains("/account/logins", links);
        Assert.Contains("/account/devices", links);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/security")).StatusCode);

        var profile = await browser.GetAsync("/account/profile");
        var saved = await browser.SubmitAsync(profile, new() { ["Name"] = "Renamed Person" });
        Assert.Equal("Your profile is saved.", await TextAsync(saved, "[role=status]"));
        Assert.Equal("Renamed Person", (await ReloadAsync(user)).Name);
        var login = await BrowserSession.ReadPageAsync(await new BrowserSession(server).GetAsync("/account/login"));
        Assert.NotNull(login.QuerySelector("a[href='/account/forgot-password']"));
    }
}

/// <summary>Links are short-lived: past their lifetime a reset link is refused.</summary>
public sealed class EmailLinkLifetimeTests(ShortLinkEmailServer server) : IClassFixture<ShortLinkEmailServer>
{
    [Fact]
    public async Task A_reset_link_is_refused_after_its_lifetime()
    {
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await browser.SubmitAsync(await browser.GetAsync("/account/forgot-password"), new() { ["Email"] = user.Email! });
        var link = MailCatcher.LinkIn(await server.Mail.WaitForAsync(user.Email!, "Reset your password"), ServerFactory.Issuer + "/account/reset-password?");

        await Task.Delay(ShortLinkEmailServer.LinkLifetime + TimeSpan.FromSeconds(1));
        var form = await browser.GetAsync(new Uri(link).PathAndQuery);
        var refused = await browser.SubmitAsync(form, new() { ["NewPassword"] = "too late for this passphrase", ["ConfirmPassword"] = "too late for this passphrase" });

        Assert.Contains("does not work", (await BrowserSession.ReadPageAsync(refused)).QuerySelector("[role=alert]")!.TextContent, StringComparison.Ordinal);
        using var withOld = new BrowserSession(server);
        var page = await OAuthFlow.SignInAsync(withOld, await withOld.GetAsync("/account/login?returnUrl=%2Faccount"), user.UserName!);
        Assert.Equal("/account", page.RequestMessage!.RequestUri!.AbsolutePath);
    }
}
