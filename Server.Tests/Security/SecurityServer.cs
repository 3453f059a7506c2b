using System.Net;
using System.Net.Http.Headers;
using System.Text;
using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityServer.Tests.Security;

/// <summary>
/// The host of the security tests: registration on, and a password hasher that counts its verifications, so a test can
/// see that a sign-in for an unknown or locked-out account costs a password check like any other.
/// </summary>
public sealed class SecurityServer : ServerFactory
{
    private readonly Lazy<Task<World>> _world;

    public SecurityServer() => _world = new(() => World.CreateAsync(this));

    /// <summary>The server's password hasher (the test host's iteration count), counting its verifications.</summary>
    public CountingPasswordHasher Hasher => (CountingPasswordHasher)Services.GetRequiredService<IPasswordHasher<ApplicationUser>>();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Accounts:AllowRegistration"] = "true",
        // Tests choose the client address with X-Forwarded-For (the in-process host has no peer address of its own).
        ["ForwardedHeaders:KnownProxies:0"] = RateLimitServer.TrustedProxy,
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<IPasswordHasher<ApplicationUser>>(
            provider => new CountingPasswordHasher(provider.GetRequiredService<IOptions<PasswordHasherOptions>>())));
    }

    /// <summary>Clients, a user, tokens and an admin token, made once per host and never changed by the tests.</summary>
    public Task<World> WorldAsync() => _world.Value;
}

[CollectionDefinition(Name)]
public sealed class SharedSecurityServer : ICollectionFixture<SecurityServer>
{
    public const string Name = "Security on a shared SQLite server";
}

/// <summary>Identity's own hasher, counting how often a password was verified.</summary>
public sealed class CountingPasswordHasher(IOptions<PasswordHasherOptions> options) : IPasswordHasher<ApplicationUser>
{
    private readonly PasswordHasher<ApplicationUser> _inner = new(options);
    private int _verifications;

    public int Verifications => Volatile.Read(ref _verifications);

    public string HashPassword(ApplicationUser user, string password) => _inner.HashPassword(user, password);

    public PasswordVerificationResult VerifyHashedPassword(ApplicationUser user, string hashedPassword, string providedPassword)
    {
        Interlocked.Increment(ref _verifications);
        return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
    }
}

/// <summary>What the hostile requests aim at: real clients, a real user, and real tokens to tamper with.</summary>
public sealed record World(
    TestClient Confidential,
    TestClient Public,
    TestClient Introspector,
    ApplicationUser User,
    string AccessToken,
    string RefreshToken,
    string IdToken,
    string AdminAccessToken)
{
    public IEnumerable<string> RegisteredRedirectUris => [Confidential.RedirectUri, Public.RedirectUri, Introspector.RedirectUri];

    public static async Task<World> CreateAsync(ServerFactory server)
    {
        var confidential = await TestData.CreateClientAsync(server, grantTypes: ["authorization_code", "refresh_token", "client_credentials"],
            postLogoutRedirectUris: ["https://rp.example/signed-out"]);
        var publicClient = await TestData.CreateClientAsync(server, confidential: false);
        var introspector = await TestData.CreateClientAsync(server, canIntrospect: true, grantTypes: ["client_credentials"]);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, confidential, user.UserName!, challenge);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, confidential, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);

        var admin = await TestData.CreateUserAsync(server);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var granted = await scope.ServiceProvider.GetRequiredService<UserAdminService>().GrantAdminAsync(admin.Id, AdminActor.CommandLine, CancellationToken.None);
            Assert.Equal(AdminOutcome.Ok, granted.Outcome);
        }

        var adminTool = await TestData.CreateClientAsync(server, scopes: ["admin"]);
        using var adminBrowser = new BrowserSession(server);
        var (adminVerifier, adminChallenge) = TestData.NewPkce();
        var adminCallback = await OAuthFlow.AuthorizeAsync(adminBrowser, adminTool, admin.UserName!, adminChallenge, scope: "admin", nonce: null);
        var (adminStatus, adminBody, _) = await OAuthFlow.RedeemCodeAsync(adminBrowser.Http, adminTool, adminCallback["code"], adminVerifier);
        Assert.Equal(HttpStatusCode.OK, adminStatus);

        return new World(confidential, publicClient, introspector, user,
            body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!, body.GetProperty("id_token").GetString()!,
            adminBody.GetProperty("access_token").GetString()!);
    }

    public static AuthenticationHeaderValue Basic(TestClient client) => BasicOf(client.ClientId, client.Secret ?? "");

    public static AuthenticationHeaderValue BasicOf(string clientId, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(secret))));
}

/// <summary>
/// What the database holds, in a form two snapshots can be compared by: a refused request must leave it as it was
/// (rows counted per table and status; failed sign-in counters summed; audit entries counted).
/// </summary>
public static class DatabaseSnapshot
{
    public static Task<string> TakeAsync(ServerFactory server) => server.WithDatabaseAsync(async db =>
    {
        var parts = new List<string>
        {
            "applications " + await db.Applications.CountAsync() + "/" + await db.Applications.CountAsync(a => a.Enabled),
            "authorizations " + await db.Authorizations.CountAsync() + "/" + await db.Authorizations.CountAsync(a => a.Status == Statuses.Valid),
            "tokens " + await db.Tokens.CountAsync() + "/" + await db.Tokens.CountAsync(t => t.Status == Statuses.Valid),
            "scopes " + await db.Scopes.CountAsync(),
            "revoked " + await db.RevokedAccessTokens.CountAsync(),
            "sessions " + await db.Sessions.CountAsync(),
            "users " + await db.Users.CountAsync() + "/" + await db.Users.SumAsync(u => u.AccessFailedCount),
            "logins " + await db.UserLogins.CountAsync(),
            "registration tokens " + await db.InitialAccessTokens.CountAsync(),
            "audit " + await db.AuditEntries.CountAsync(),
        };
        return string.Join(", ", parts);
    });
}
