using System.Buffers.Binary;
using IdentityServer.Accounts.Passwords;
using IdentityServer.Data;
using IdentityServer.Tests.Federation;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityServer.Tests.Accounts;

/// <summary>Identity's v3 password hash: 0x01, the PRF, the iteration count, the salt length (big-endian), salt, subkey.</summary>
public static class PasswordHashFormat
{
    public const int HmacSha512 = 2; // KeyDerivationPrf.HMACSHA512

    public static (int Prf, int Iterations) Read(string? hash)
    {
        var bytes = Convert.FromBase64String(hash!);
        Assert.Equal(0x01, bytes[0]);
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(5)));
    }

    /// <summary>The hash an older configuration stored (Identity's v3 format with another iteration count).</summary>
    public static string Older(ApplicationUser user, int iterations) =>
        new PasswordHasher<ApplicationUser>(Options.Create(new PasswordHasherOptions { IterationCount = iterations })).HashPassword(user, TestData.Password);

    public static async Task StoreAsync(ServerFactory server, string userId, string hash) =>
        await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(u => u.SetProperty(x => x.PasswordHash, hash)));

    public static Task<string?> StoredAsync(ServerFactory server, string userId) =>
        server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.PasswordHash).SingleAsync());
}

/// <summary>
/// New passwords are checked against the common-password list and the account's own names; a stored hash made with
/// fewer PBKDF2 iterations than configured is replaced at the next password sign-in (on this host the tests' 1,000).
/// </summary>
[Collection(FederationHost.Name)]
public sealed class PasswordPolicyTests(FederationServer server)
{
    private static string NewName() => "pw" + Guid.NewGuid().ToString("N")[..10];

    private async Task<(HttpResponseMessage Page, string UserName)> RegisterAsync(string password, string? userName = null, string? email = null)
    {
        userName ??= NewName();
        using var browser = new BrowserSession(server);
        var page = await browser.SubmitAsync(await browser.GetAsync("/account/register"), new()
        {
            ["UserName"] = userName,
            ["Email"] = email ?? userName + "@example.org",
            ["Password"] = password,
            ["ConfirmPassword"] = password,
        });
        return (page, userName);
    }

    private async Task<bool> ExistsAsync(string userName) => await server.WithDatabaseAsync(db => db.Users.AnyAsync(u => u.UserName == userName));

    [Theory]
    [InlineData("password123")]
    [InlineData("Password123")]
    [InlineData("QWERTYUIOP")]
    [InlineData("1234567890")]
    [InlineData("iloveyou123")]
    public async Task Registration_refuses_a_common_password_whatever_its_case(string password)
    {
        var (page, userName) = await RegisterAsync(password);

        Assert.Contains("one of the most common", (await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]")?.TextContent, StringComparison.Ordinal);
        Assert.False(await ExistsAsync(userName));
    }

    [Theory]
    [InlineData("{name}")]
    [InlineData("my {NAME} forever")]
    [InlineData("{email}")]
    [InlineData("x{local}x and more")]
    [InlineData("{LOCAL}")]
    public async Task Registration_refuses_a_password_holding_the_user_name_or_email(string pattern)
    {
        var userName = NewName();
        var local = "mail." + Guid.NewGuid().ToString("N")[..6];
        var email = local + "@example.org";
        var password = pattern.Replace("{name}", userName, StringComparison.Ordinal).Replace("{NAME}", userName.ToUpperInvariant(), StringComparison.Ordinal)
            .Replace("{email}", email, StringComparison.Ordinal).Replace("{local}", local, StringComparison.Ordinal)
            .Replace("{LOCAL}", local.ToUpperInvariant() + "-2024", StringComparison.Ordinal);

        var (page, _) = await RegisterAsync(password, userName, email);

        Assert.Contains("must not contain your user name or email", (await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]")?.TextContent, StringComparison.Ordinal);
        Assert.False(await ExistsAsync(userName));
    }

    [Fact]
    public async Task A_long_uncommon_password_without_the_accounts_names_is_accepted()
    {
        var (page, userName) = await RegisterAsync("velvet cactus orbit 1987");

        Assert.Null((await BrowserSession.ReadPageAsync(page)).QuerySelector("[role=alert]"));
        Assert.True(await ExistsAsync(userName));
    }

    [Fact]
    public async Task A_one_or_two_letter_user_name_is_refused_only_as_the_whole_password()
    {
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var validator = new PasswordPolicyValidator();
        var user = new ApplicationUser { UserName = "al", Email = null };

        Assert.True((await validator.ValidateAsync(users, user, "always a long passphrase")).Succeeded);
        Assert.False((await validator.ValidateAsync(users, user, "AL")).Succeeded);
        Assert.Contains(users.PasswordValidators, v => v is PasswordPolicyValidator);
    }

    [Fact]
    public void The_list_is_loaded_and_covers_every_password_the_length_rule_allows()
    {
        var required = server.Services.GetRequiredService<IOptions<IdentityOptions>>().Value.Password.RequiredLength;

        Assert.True(CommonPasswords.Count > 40_000, $"{CommonPasswords.Count} passwords");
        // The shipped list was cut at the minimum length: a lower minimum would let through passwords it never held.
        Assert.True(CommonPasswords.ShortestLength <= required, $"the list starts at {CommonPasswords.ShortestLength} characters, the minimum is {required}");
        Assert.True(CommonPasswords.Contains("Password123"));
        Assert.False(CommonPasswords.Contains(TestData.Password));
    }

    [Fact]
    public async Task A_hash_with_fewer_iterations_than_configured_is_replaced_at_the_next_sign_in()
    {
        var user = await TestData.CreateUserAsync(server);
        await PasswordHashFormat.StoreAsync(server, user.Id, PasswordHashFormat.Older(user, iterations: 500));
        using var browser = new BrowserSession(server);

        var page = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), user.UserName!);

        Assert.Equal("/account/logins", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal((PasswordHashFormat.HmacSha512, 1_000), PasswordHashFormat.Read(await PasswordHashFormat.StoredAsync(server, user.Id)));
        // The session made by that sign-in carries the new security stamp and stays valid.
        Assert.Equal("/account/logins", (await browser.GetAsync("/account/logins")).RequestMessage!.RequestUri!.AbsolutePath);
    }
}

/// <summary>A host with the server's own password hashing settings (the tests' lower iteration count left out).</summary>
public sealed class ProductionHashingServer : ServerFactory
{
    protected override int? TestPasswordHashIterations => null;
}

/// <summary>The production work factor: PBKDF2-HMAC-SHA512 at OWASP's 210,000 iterations, and the upgrade of older hashes.</summary>
public sealed class PasswordHashingDefaultsTests(ProductionHashingServer server) : IClassFixture<ProductionHashingServer>
{
    [Fact]
    public async Task New_hashes_use_pbkdf2_hmac_sha512_with_210000_iterations()
    {
        Assert.Equal(210_000, server.Services.GetRequiredService<IOptions<PasswordHasherOptions>>().Value.IterationCount);
        var user = await TestData.CreateUserAsync(server);

        Assert.Equal((PasswordHashFormat.HmacSha512, 210_000), PasswordHashFormat.Read(await PasswordHashFormat.StoredAsync(server, user.Id)));
    }

    [Fact]
    public async Task A_hash_from_identitys_default_100000_iterations_is_upgraded_at_the_next_sign_in()
    {
        var user = await TestData.CreateUserAsync(server);
        await PasswordHashFormat.StoreAsync(server, user.Id, PasswordHashFormat.Older(user, iterations: new PasswordHasherOptions().IterationCount));
        Assert.Equal(100_000, PasswordHashFormat.Read(await PasswordHashFormat.StoredAsync(server, user.Id)).Iterations);
        using var browser = new BrowserSession(server);

        var page = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), user.UserName!);

        Assert.Equal("/account/logins", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal((PasswordHashFormat.HmacSha512, 210_000), PasswordHashFormat.Read(await PasswordHashFormat.StoredAsync(server, user.Id)));
    }
}
