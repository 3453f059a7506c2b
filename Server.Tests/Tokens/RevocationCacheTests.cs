using System.Diagnostics;
using System.Net;
using IdentityServer.Accounts.Sessions;
using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Tokens;

/// <summary>
/// Introspection answered from the revocation cache, on one instance: every way a token's standing changes (its jti
/// revoked, its family revoked by the client, by reuse, by sign-out everywhere, its client disabled, its person deleted)
/// drops the cached answer the moment it commits. Each test first proves that the answer was cached, so it tests the
/// invalidation, not a database read.
/// </summary>
public abstract class RevocationCacheTests(ServerFactory server)
{
    [Fact]
    public async Task A_revoked_access_token_is_inactive_at_once_although_its_answer_was_cached()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await CachedActiveAsync(scenario);

        Assert.Equal(HttpStatusCode.OK, (await scenario.RevokeAsync(tokens.AccessToken)).Status);

        await scenario.AssertInactiveAsync(tokens.AccessToken);
    }

    [Fact]
    public async Task A_family_revoked_by_its_client_by_reuse_or_by_sign_out_everywhere_is_inactive_at_once()
    {
        using var scenario = await TokenScenario.CreateAsync(server);

        var revokedByClient = await CachedActiveAsync(scenario);
        Assert.Equal(HttpStatusCode.OK, (await scenario.RevokeAsync(revokedByClient.RefreshToken!)).Status);
        await scenario.AssertInactiveAsync(revokedByClient.AccessToken);

        var first = await scenario.SignInAsync();
        var reused = await CachedActiveAsync(scenario, await scenario.RotateAsync(first.RefreshToken!));
        Assert.Equal("invalid_grant", (await scenario.RefreshAsync(first.RefreshToken!)).Error); // reuse: the family goes
        await scenario.AssertInactiveAsync(reused.AccessToken);

        var signedOut = await CachedActiveAsync(scenario);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<SessionService>().SignOutEverywhereAsync(scenario.User.Id, CancellationToken.None);
        }

        await scenario.AssertInactiveAsync(signedOut.AccessToken);
    }

    [Fact]
    public async Task Tokens_of_a_disabled_client_or_a_deleted_person_are_inactive_at_once()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var ofClient = await CachedActiveAsync(scenario);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var clients = scope.ServiceProvider.GetRequiredService<ClientAdminService>();
            await clients.SetEnabledAsync(scenario.App.ClientId, false, AdminActor.Configuration, CancellationToken.None);
            await scenario.AssertInactiveAsync(ofClient.AccessToken);
            await clients.SetEnabledAsync(scenario.App.ClientId, true, AdminActor.Configuration, CancellationToken.None);
        }

        var ofPerson = await CachedActiveAsync(scenario);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserAdminService>();
            Assert.Equal(AdminOutcome.Ok, (await users.DeleteAsync(scenario.User.Id, AdminActor.Configuration, CancellationToken.None)).Outcome);
        }

        await scenario.AssertInactiveAsync(ofPerson.AccessToken);
    }

    /// <summary>A fresh sign-in (or the given tokens) introspected active, and the answer now in this instance's cache.</summary>
    private async Task<IssuedTokens> CachedActiveAsync(TokenScenario scenario, IssuedTokens? tokens = null)
    {
        tokens ??= await scenario.SignInAsync();
        var cache = server.Services.GetRequiredService<RevocationCache>();
        var clock = Stopwatch.StartNew();
        while (!cache.IsTrusted && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(50); // PostgreSQL: the listener subscribes when the host starts
        }

        await scenario.AssertActiveAsync(tokens.AccessToken);
        Assert.True(cache.TryGetLive(TokenScenario.FamilyOf(tokens), tokens.Jti, out var live, out _), "the answer was not cached");
        Assert.True(live);
        return tokens;
    }
}

[Collection(SqliteTokenServer.Name)]
public sealed class SqliteRevocationCacheTests(SqliteServer server) : RevocationCacheTests(server);

[Collection(PostgresTokenServer.Name)]
public sealed class PostgresRevocationCacheTests(PostgresServer server) : RevocationCacheTests(server);

/// <summary>The cache's own rules, without a server: when it may answer, and that a read racing a revocation is not kept.</summary>
public sealed class RevocationCacheRulesTests
{
    [Fact]
    public void An_answer_read_before_a_revocation_was_applied_is_not_kept()
    {
        using var cache = Cache(DatabaseProviders.Sqlite);
        Assert.False(cache.TryGetLive("grant", "jti", out _, out var generation)); // a miss: the caller reads the database

        cache.Invalidate([RevocationNotices.GrantPrefix + "grant"]); // meanwhile a revocation commits
        cache.Remember("grant", grantValid: true, "jti", jtiRevoked: false, generation); // the read from before it

        Assert.False(cache.TryGetLive("grant", "jti", out _, out generation));
        cache.Remember("grant", grantValid: true, "jti", jtiRevoked: false, generation);
        Assert.True(cache.TryGetLive("grant", "jti", out var live, out _));
        Assert.True(live);
    }

    [Fact]
    public void On_PostgreSQL_the_cache_answers_only_while_subscribed_and_starts_empty_after_each_subscription()
    {
        using var cache = Cache(DatabaseProviders.PostgreSql);
        Assert.False(cache.TryGetLive(null, "jti", out _, out var generation));
        Assert.Equal(-1, generation); // not subscribed: nothing read now may be kept

        cache.Subscribed();
        Assert.False(cache.TryGetLive(null, "jti", out _, out generation));
        cache.Remember(null, true, "jti", jtiRevoked: false, generation);
        Assert.True(cache.TryGetLive(null, "jti", out var live, out _));
        Assert.True(live);

        cache.Unsubscribed(); // the connection is lost: notices may be missed from now on
        Assert.False(cache.TryGetLive(null, "jti", out _, out generation));
        Assert.Equal(-1, generation);
        cache.Subscribed();
        Assert.False(cache.TryGetLive(null, "jti", out _, out _)); // cleared, read again
    }

    [Fact]
    public void SQL_Server_never_caches()
    {
        using var cache = Cache(DatabaseProviders.SqlServer);
        Assert.Equal(RevocationCacheMode.Off, cache.Mode);
        Assert.False(cache.IsTrusted);
    }

    [Fact]
    public void Long_notices_are_split_below_PostgreSQLs_payload_limit_and_keep_every_key()
    {
        var keys = Enumerable.Range(0, 1000).Select(i => RevocationNotices.GrantPrefix + Guid.NewGuid()).ToList();

        var payloads = RevocationNotices.Payloads(keys).ToList();

        Assert.True(payloads.Count > 1);
        Assert.All(payloads, p => Assert.True(System.Text.Encoding.UTF8.GetByteCount(p) < 8000));
        Assert.Equal(keys, payloads.SelectMany(RevocationNotices.Parse));
    }

    private static RevocationCache Cache(string provider)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new RevocationCache(new DatabaseOptions { Provider = provider }, new RevocationCacheOptions(),
            new ServerMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
    }
}
