using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Tokens;

/// <summary>
/// A server configured with a 30 s refresh-token reuse leeway (Tokens:RefreshTokenReuseLeeway, OpenIddict's default;
/// ours is 0): a token presented again within the leeway, or by requests racing each other, is not treated as reuse;
/// after it, it is. Runs on SQLite and PostgreSQL.
/// </summary>
public abstract class RefreshTokenLeewayTests(ServerFactory server)
{
    public const string Leeway = "00:00:30";

    [Fact]
    public async Task A_redeemed_token_presented_again_within_the_leeway_still_works()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var first = await scenario.SignInAsync();
        var second = await scenario.RotateAsync(first.RefreshToken!);

        // A retry (the client lost the answer) 10 s later: a fresh token, and the family stands.
        server.Time.Advance(TimeSpan.FromSeconds(10));
        var retried = await scenario.RotateAsync(first.RefreshToken!);
        Assert.NotEqual(second.RefreshToken, retried.RefreshToken);
        var third = await scenario.RotateAsync(second.RefreshToken!);
        await scenario.AssertActiveAsync(third.AccessToken);

        // Past the leeway (30 s after its redemption) it is reuse again: the whole family is revoked.
        server.Time.Advance(TimeSpan.FromSeconds(21));
        Assert.Equal("invalid_grant", (await scenario.RefreshAsync(first.RefreshToken!)).Error);
        Assert.Equal("invalid_grant", (await scenario.RefreshAsync(third.RefreshToken!)).Error);
        await scenario.AssertInactiveAsync(third.AccessToken);
    }

    [Fact]
    public async Task Concurrent_refreshes_within_the_leeway_all_succeed_and_keep_the_family()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        for (var round = 0; round < 3; round++)
        {
            var tokens = await scenario.SignInAsync();
            var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => scenario.RefreshAsync(tokens.RefreshToken!))));

            Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.OK, a.Raw));
            var (family, stored) = await scenario.FamilyAsync(TokenScenario.FamilyOf(tokens));
            Assert.Equal(Statuses.Valid, family.Status);
            Assert.Equal(Statuses.Redeemed, stored[0].Status);
            Assert.Equal(4, stored.Count); // the original and one successor per request
        }
    }
}

public sealed class SqliteLeewayServer : ServerFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Tokens:RefreshTokenReuseLeeway"] = RefreshTokenLeewayTests.Leeway,
    };
}

public sealed class PostgresLeewayServer : ServerFactory
{
    private readonly Lazy<string> _connectionString =
        new(() => PostgresCluster.Shared.CreateDatabaseAsync().GetAwaiter().GetResult(), LazyThreadSafetyMode.ExecutionAndPublication);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Database:Provider"] = "PostgreSQL",
        ["Database:ConnectionString"] = _connectionString.Value,
        ["Tokens:RefreshTokenReuseLeeway"] = RefreshTokenLeewayTests.Leeway,
    };
}

public sealed class SqliteRefreshTokenLeewayTests(SqliteLeewayServer server) : RefreshTokenLeewayTests(server), IClassFixture<SqliteLeewayServer>;

/// <remarks>[Fact], not [Fact]: with no PostgreSQL the fixture's cluster fails to start, failing these tests (never skipping them).</remarks>
public sealed class PostgresRefreshTokenLeewayTests(PostgresLeewayServer server) : RefreshTokenLeewayTests(server), IClassFixture<PostgresLeewayServer>;
