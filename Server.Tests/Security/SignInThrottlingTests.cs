using System.Net;
using AngleSharp.Html.Parser;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Security.Hostile;

namespace IdentityServer.Tests.Security;

/// <summary>
/// Password sign-in never tells whether an account exists: an unknown name, a wrong password and a locked-out account
/// get the same page, the same status and the same work (one password verification each, so the timing matches too).
/// Five failures lock an account for fifteen minutes, during which even the right password is refused.
/// </summary>
[Collection(SharedSecurityServer.Name)]
public sealed class SignInThrottlingTests(SecurityServer server)
{
    [Fact]
    public async Task Unknown_account_wrong_password_and_locked_out_look_the_same_and_cost_the_same()
    {
        var known = await TestData.CreateUserAsync(server);
        var locked = await TestData.CreateUserAsync(server);
        await LockOutAsync(locked);

        var unknown = await AttemptAsync("nobody-" + Guid.NewGuid().ToString("N"), TestData.Password);
        var wrongPassword = await AttemptAsync(known.UserName!, "not the password");
        var lockedOut = await AttemptAsync(locked.UserName!, TestData.Password);

        foreach (var attempt in new[] { unknown, wrongPassword, lockedOut })
        {
            Assert.Equal(HttpStatusCode.OK, attempt.Status);
            Assert.Equal(unknown.Page, attempt.Page);
            // Each costs exactly one password verification: against the account's hash, or a dummy one.
            Assert.Equal(1, attempt.Verifications);
        }

        Assert.Contains("That username and password did not work", unknown.Page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Five_failures_lock_the_account_for_fifteen_minutes_even_against_the_right_password()
    {
        var user = await TestData.CreateUserAsync(server);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await AttemptAsync(user.UserName!, "wrong " + i)).Status);
        }

        var refused = await AttemptAsync(user.UserName!, TestData.Password);
        Assert.Equal(HttpStatusCode.OK, refused.Status);
        Assert.Contains("That username and password did not work", refused.Page, StringComparison.Ordinal);

        var lockoutEnd = await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.LockoutEnd).SingleAsync());
        Assert.NotNull(lockoutEnd);
        Assert.InRange(lockoutEnd.Value - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(16));

        var reasons = await server.WithDatabaseAsync(db => db.AuditEntries
            .Where(e => e.Target == "user:" + user.Id && e.Action == "sign_in.password")
            .OrderBy(e => e.Timestamp).Select(e => e.Details!).ToListAsync());
        Assert.Equal(6, reasons.Count);
        Assert.Contains("wrong_password_now_locked_out", reasons[4], StringComparison.Ordinal);
        Assert.Contains("\"locked_out\"", reasons[5], StringComparison.Ordinal);

        // Once the lockout is over, the right password works again (and the count starts afresh).
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var row = await users.FindByIdAsync(user.Id);
            await users.SetLockoutEndDateAsync(row!, DateTimeOffset.UtcNow.AddSeconds(-1));
        }

        Assert.Equal(HttpStatusCode.Redirect, (await AttemptAsync(user.UserName!, TestData.Password)).Status);
    }

    private async Task LockOutAsync(ApplicationUser user)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var row = await users.FindByIdAsync(user.Id);
        await users.SetLockoutEndDateAsync(row!, DateTimeOffset.UtcNow.AddMinutes(15));
    }

    private sealed record Attempt(HttpStatusCode Status, string Page, int Verifications);

    /// <summary>One sign-in attempt; the page reduced to what a person sees (text and field names, not token or echoed values).</summary>
    private async Task<Attempt> AttemptAsync(string username, string password)
    {
        var world = await server.WorldAsync();
        using var http = CreateClient(server);
        var probe = new Probe(server, world, http);
        var token = await probe.AntiforgeryTokenAsync("/account/login");
        var before = server.Hasher.Verifications;
        using var response = await probe.PostAsync("/account/login", FormOf(("Username", username), ("Password", password), ("__RequestVerificationToken", token)));
        var verifications = server.Hasher.Verifications - before;

        var document = new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
        var fields = string.Join(",", document.QuerySelectorAll("input").Select(i => i.GetAttribute("name")));
        var text = document.Body?.TextContent.Replace(username, "", StringComparison.Ordinal) ?? "";
        return new Attempt(response.StatusCode, fields + "|" + string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), verifications);
    }
}
