using IdentityServer.Data;
using IdentityServer.Jobs;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace IdentityServer.Tests.Jobs;

/// <summary>
/// What a prune deletes and what it keeps, across every status and type of token and grant, driven by the server's
/// fake clock; windowed batches; two prunes at once. The pruning service is called directly, not through Quartz timing.
/// Runs on SQLite and PostgreSQL.
/// </summary>
public abstract class PruningTests(ServerFactory server)
{
    /// <summary>The test host runs with the default settings.</summary>
    private static readonly TimeSpan Retention = new PruningOptions().Retention;

    private const string Code = TokenTypes.AuthorizationCode;
    private const string Refresh = TokenTypes.RefreshToken;
    private const string AdHoc = AuthorizationTypes.AdHoc;
    private const string Permanent = AuthorizationTypes.Permanent;
    private const string Valid = Statuses.Valid;
    private const string Redeemed = Statuses.Redeemed;
    private const string Revoked = Statuses.Revoked;

    [Fact]
    public async Task Dead_rows_older_than_the_retention_go_while_live_and_young_rows_stay()
    {
        var rows = await PruneRows.CreateAsync(server);
        var t0 = rows.Now;
        rows.Grant("live family", AdHoc, Valid, expires: t0.AddDays(90));
        rows.Token("live family: redeemed code", "live family", Code, Redeemed, t0.AddMinutes(1));
        rows.Token("live family: unused code", "live family", Code, Valid, t0.AddMinutes(1));
        rows.Token("live family: redeemed refresh token, expired", "live family", Refresh, Redeemed, t0.AddDays(14));
        rows.Token("live family: redeemed refresh token, unexpired", "live family", Refresh, Redeemed, t0.AddDays(30));
        rows.Token("live family: current refresh token", "live family", Refresh, Valid, t0.AddDays(30));
        rows.Token("live family: revoked refresh token", "live family", Refresh, Revoked, t0.AddDays(30));
        rows.Grant("revoked family", AdHoc, Revoked, expires: t0.AddDays(90));
        rows.Token("revoked family: revoked refresh token", "revoked family", Refresh, Revoked, t0.AddDays(30));
        rows.Token("revoked family: valid refresh token", "revoked family", Refresh, Valid, t0.AddDays(30));
        rows.Token("revoked family: redeemed refresh token", "revoked family", Refresh, Redeemed, t0.AddDays(30));
        rows.Grant("ended family", AdHoc, Valid, expires: t0.AddDays(1));
        rows.Token("ended family: valid refresh token", "ended family", Refresh, Valid, t0.AddDays(30));
        rows.Token("ended family: redeemed refresh token", "ended family", Refresh, Redeemed, t0.AddDays(30));
        rows.Grant("family without tokens", AdHoc, Valid, expires: t0.AddDays(90));
        rows.Grant("consent", Permanent, Valid);
        rows.Grant("revoked consent", Permanent, Revoked);
        rows.Token("no grant: valid", null, Refresh, Valid, t0.AddDays(30));
        rows.Token("no grant: valid, expired", null, Refresh, Valid, t0.AddHours(1));
        rows.Token("no grant: redeemed", null, Code, Redeemed, t0.AddDays(30));
        rows.Token("no grant: revoked", null, Refresh, Revoked, t0.AddDays(30));
        rows.RevokedJti("revoked jti, expired before the retention window", t0.AddMinutes(10));
        rows.RevokedJti("revoked jti, expired within the retention window", t0.AddDays(2));
        rows.RevokedJti("revoked jti, unexpired", t0.AddDays(20));
        rows.Session("session, ended before the retention window", t0.AddHours(1));
        rows.Session("session, ended within the retention window", t0.AddDays(2));
        rows.Session("session, live", t0.AddDays(20));
        rows.RegistrationToken("registration token, expired before the retention window", t0.AddHours(1));
        rows.RegistrationToken("registration token, unexpired", t0.AddDays(20));
        rows.DPoPProof("DPoP proof jti, past its window", t0.AddMinutes(1));
        rows.DPoPProof("DPoP proof jti, within its window", t0.AddDays(20));
        await rows.SaveAsync();

        server.Time.Advance(Retention + TimeSpan.FromDays(1));
        var t1 = rows.Now;
        // Just as dead, but younger than the retention window.
        rows.Grant("young revoked family", AdHoc, Revoked, expires: t1.AddDays(90));
        rows.Token("young revoked family: revoked refresh token", "young revoked family", Refresh, Revoked, t1.AddDays(14));
        rows.Grant("young family without tokens", AdHoc, Valid, expires: t1.AddDays(90));
        rows.Grant("young revoked consent", Permanent, Revoked);
        rows.Token("live family: young expired code", "live family", Code, Valid, t1.AddMinutes(1));
        rows.Token("no grant: young revoked", null, Refresh, Revoked, t1.AddDays(14));
        await rows.SaveAsync();
        server.Time.Advance(TimeSpan.FromHours(1));

        await rows.Pruner().RunAsync(CancellationToken.None);

        AssertNames(
            [
                "consent",
                "DPoP proof jti, within its window",
                "live family",
                "live family: current refresh token",
                "live family: redeemed refresh token, unexpired",
                "live family: young expired code",
                "no grant: valid",
                "no grant: young revoked",
                "registration token, unexpired",
                "revoked jti, expired within the retention window",
                "revoked jti, unexpired",
                "session, ended within the retention window",
                "session, live",
                "young family without tokens",
                "young revoked consent",
                "young revoked family",
                "young revoked family: revoked refresh token",
            ],
            await rows.SurvivorsAsync());

        // A retention later the young ones are old enough too.
        server.Time.Advance(Retention);
        await rows.Pruner().RunAsync(CancellationToken.None);

        AssertNames(
            [
                "consent",
                "DPoP proof jti, within its window",
                "live family",
                "live family: current refresh token",
                "live family: redeemed refresh token, unexpired",
                "no grant: valid",
                "registration token, unexpired",
                "revoked jti, unexpired",
                "session, live",
            ],
            await rows.SurvivorsAsync());
    }

    [Fact]
    public async Task A_live_family_keeps_its_tokens_until_they_expire_then_goes_while_consent_stays()
    {
        var rows = await PruneRows.CreateAsync(server);
        var t0 = rows.Now;
        rows.Grant("family", AdHoc, Valid, expires: t0.AddDays(90));
        rows.Token("first refresh token, rotated", "family", Refresh, Redeemed, t0.AddDays(14));
        rows.Token("second refresh token, rotated", "family", Refresh, Redeemed, t0.AddDays(20), created: t0.AddDays(2));
        rows.Token("current refresh token", "family", Refresh, Valid, t0.AddDays(26), created: t0.AddDays(12));
        rows.Grant("consent", Permanent, Valid);
        await rows.SaveAsync();

        // Day 19: everything but the current token is older than 14 days. The first rotated token has expired; the second
        // has not, and presenting it again must still be caught as reuse (RFC 9700 §4.14.2), so it stays.
        server.Time.Advance(TimeSpan.FromDays(19));
        await rows.Pruner().RunAsync(CancellationToken.None);
        AssertNames(["consent", "current refresh token", "family", "second refresh token, rotated"], await rows.SurvivorsAsync());

        // Day 27: the current token expired unused; the family has no token left and goes. Consent is never pruned.
        server.Time.Advance(TimeSpan.FromDays(8));
        await rows.Pruner().RunAsync(CancellationToken.None);
        AssertNames(["consent"], await rows.SurvivorsAsync());

        server.Time.Advance(TimeSpan.FromDays(400));
        await rows.Pruner().RunAsync(CancellationToken.None);
        AssertNames(["consent"], await rows.SurvivorsAsync());
    }

    [Fact]
    public async Task A_dead_row_goes_only_once_it_is_older_than_the_retention()
    {
        var rows = await PruneRows.CreateAsync(server);
        var t0 = rows.Now;
        rows.Grant("revoked family", AdHoc, Revoked, expires: t0.AddDays(90));
        rows.Token("revoked refresh token", "revoked family", Refresh, Revoked, t0.AddDays(14));
        rows.Token("expired code", "revoked family", Code, Redeemed, t0.AddMinutes(1));
        rows.RevokedJti("revoked jti", t0.AddMinutes(10));
        await rows.SaveAsync();

        server.Time.Advance(Retention - TimeSpan.FromMinutes(1));
        await rows.Pruner().RunAsync(CancellationToken.None);
        AssertNames(["expired code", "revoked family", "revoked jti", "revoked refresh token"], await rows.SurvivorsAsync());

        // The tokens and grant were created at t0; the jti's token expired 10 minutes later, so it waits that much longer.
        server.Time.Advance(TimeSpan.FromMinutes(2));
        await rows.Pruner().RunAsync(CancellationToken.None);
        AssertNames(["revoked jti"], await rows.SurvivorsAsync());

        server.Time.Advance(TimeSpan.FromMinutes(10));
        await rows.Pruner().RunAsync(CancellationToken.None);
        Assert.Empty(await rows.SurvivorsAsync());
    }

    [Fact]
    public async Task Expired_pushed_requests_and_used_client_assertions_go_after_the_retention()
    {
        var t0 = server.Time.GetUtcNow().UtcDateTime;
        var suffix = Guid.NewGuid().ToString("N");
        await server.WithDatabaseAsync(async db =>
        {
            db.PushedAuthorizationRequests.AddRange(
                new PushedAuthorizationRequest { Id = "old-par-" + suffix, ReferenceId = "old-" + suffix, ClientId = "c", Parameters = "{}", CreationDate = t0, ExpirationDate = t0.AddMinutes(1) },
                new PushedAuthorizationRequest { Id = "live-par-" + suffix, ReferenceId = "live-" + suffix, ClientId = "c", Parameters = "{}", CreationDate = t0, ExpirationDate = t0 + Retention + TimeSpan.FromDays(1) });
            db.UsedClientAssertions.AddRange(
                new UsedClientAssertion { Id = "old-jti-" + suffix, ClientId = "c", ExpirationDate = t0.AddMinutes(1) },
                new UsedClientAssertion { Id = "live-jti-" + suffix, ClientId = "c", ExpirationDate = t0 + Retention + TimeSpan.FromDays(1) });
            await db.SaveChangesAsync();
        });

        server.Time.Advance(Retention + TimeSpan.FromMinutes(2));
        await server.Services.GetRequiredService<PruneService>().RunAsync(CancellationToken.None);

        var (requests, assertions) = await server.WithDatabaseAsync(async db => (
            db.PushedAuthorizationRequests.Where(r => r.Id.EndsWith(suffix)).Select(r => r.Id).ToList(),
            db.UsedClientAssertions.Where(a => a.Id.EndsWith(suffix)).Select(a => a.Id).ToList()));
        Assert.Equal(["live-par-" + suffix], requests);
        Assert.Equal(["live-jti-" + suffix], assertions);
    }

    [Fact]
    public async Task Small_batches_walk_every_window_including_rows_created_at_the_same_instant()
    {
        var rows = await PruneRows.CreateAsync(server);
        var t0 = rows.Now;
        var expected = new List<string>();
        rows.Grant("family", AdHoc, Valid, expires: t0.AddDays(90));
        expected.Add("family");
        for (var i = 0; i < 12; i++)
        {
            // A dead and a live token created at one instant: windows of three rows end in the middle of such pairs.
            var created = t0.AddSeconds(i);
            rows.Token($"dead {i:D2}", "family", Refresh, Revoked, t0.AddDays(30), created);
            rows.Token($"live {i:D2}", "family", Refresh, Valid, t0.AddDays(30), created);
            expected.Add($"live {i:D2}");
        }

        await rows.SaveAsync();
        server.Time.Advance(Retention + TimeSpan.FromMinutes(1));

        var result = await rows.Pruner(batchSize: 3).RunAsync(CancellationToken.None);

        AssertNames(expected, await rows.SurvivorsAsync());
        var tokens = Assert.Single(result.Steps, s => s.Step == "tokens");
        Assert.True(tokens.Batches >= 6, $"24 candidate tokens in windows of 3 took only {tokens.Batches} batches");
        Assert.True(tokens.Deleted >= 12, $"only {tokens.Deleted} tokens deleted");
    }

    [Fact]
    public async Task Two_prunes_at_once_end_in_the_same_state_as_one()
    {
        var rows = await PruneRows.CreateAsync(server);
        var t0 = rows.Now;
        var expected = new List<string>();
        for (var f = 0; f < 20; f++)
        {
            var live = f % 2 == 0;
            var family = $"family {f:D2}";
            rows.Grant(family, AdHoc, live ? Valid : Revoked, expires: t0.AddDays(90), created: t0.AddSeconds(f));
            for (var i = 0; i < 10; i++)
            {
                var name = $"{family} token {i}";
                var current = live && i == 9;
                rows.Token(name, family, Refresh, current ? Valid : live ? Redeemed : Revoked,
                    current ? t0.AddDays(30) : t0.AddDays(1), created: t0.AddSeconds(f).AddMilliseconds(i));
                if (current)
                {
                    expected.Add(name);
                }
            }

            if (live)
            {
                expected.Add(family);
            }

            rows.Grant($"empty family {f:D2}", AdHoc, Valid, expires: t0.AddDays(90), created: t0.AddSeconds(f));
            rows.RevokedJti($"jti {f:D2}", t0.AddMinutes(f));
        }

        rows.Grant("consent", Permanent, Valid);
        expected.Add("consent");
        await rows.SaveAsync();
        server.Time.Advance(Retention + TimeSpan.FromDays(2));

        var first = rows.Pruner(batchSize: 7).RunAsync(CancellationToken.None);
        var second = rows.Pruner(batchSize: 7).RunAsync(CancellationToken.None);
        await Task.WhenAll(first, second);

        AssertNames(expected, await rows.SurvivorsAsync());
    }

    private static void AssertNames(IEnumerable<string> expected, List<string> actual) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual);
}

public sealed class SqlitePruningTests(SqliteServer server) : PruningTests(server), IClassFixture<SqliteServer>
{
    [Fact]
    public async Task The_job_is_scheduled_every_interval_from_a_random_first_run_and_never_overlaps_itself()
    {
        var before = DateTimeOffset.UtcNow;
        var scheduler = await server.Services.GetRequiredService<ISchedulerFactory>().GetScheduler(CancellationToken.None);
        var trigger = Assert.IsAssignableFrom<ISimpleTrigger>(await scheduler.GetTrigger(new TriggerKey(PruningRegistration.JobKey.Name), CancellationToken.None));
        var job = await scheduler.GetJobDetail(PruningRegistration.JobKey, CancellationToken.None);

        Assert.Equal(PruningRegistration.JobKey, trigger.JobKey);
        Assert.Equal(TimeSpan.FromHours(1), trigger.RepeatInterval);
        Assert.True(trigger.StartTimeUtc <= before.AddMinutes(10), $"first run at {trigger.StartTimeUtc:O}, more than 10 minutes away");
        Assert.NotNull(job);
        Assert.True(job.ConcurrentExecutionDisallowed);
        Assert.Equal(typeof(PruneJob), job.JobType.Type);
    }
}

/// <remarks>[Fact], not [Fact]: with no PostgreSQL the fixture's cluster fails to start, failing these tests (never skipping them).</remarks>
public sealed class PostgresPruningTests(PostgresServer server) : PruningTests(server), IClassFixture<PostgresServer>;
