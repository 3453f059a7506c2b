using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Cluster;

/// <summary>
/// Several instances on one PostgreSQL, with real processes on loopback: nothing depends on which instance
/// a request lands on. A, B and C are indexes 0, 1 and 2 of <see cref="ClusterFixture"/>.
/// </summary>
public sealed class ClusterTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private const int A = 0;
    private const int B = 1;
    private const int C = 2;
    private const string Password = "cluster password for tests";

    [Fact]
    public async Task A_code_flow_started_on_A_completes_on_B_and_refreshes_on_C()
    {
        await cluster.StartAsync();
        var user = await cluster.CreateUserAsync(Password);
        using var client = new ClusterClient(cluster);

        var (code, verifier) = await client.AuthorizeAsync(start: A, finish: B, user.UserName!, Password);
        var (status, tokens) = await client.RedeemAsync(B, code, verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        var (refreshStatus, refreshed) = await client.RefreshAsync(C, tokens.GetProperty("refresh_token").GetString()!);

        Assert.Equal(HttpStatusCode.OK, refreshStatus);
        Assert.NotEqual(tokens.GetProperty("refresh_token").GetString(), refreshed.GetProperty("refresh_token").GetString());
        // Every instance signs with the shared key and publishes the same key set, and each accepts the others' tokens.
        var jwks = await Task.WhenAll(ClusterFixture.Names.Select((_, i) => client.GetStringAsync(i, "/.well-known/jwks")));
        Assert.All(jwks, set => Assert.Equal(jwks[0], set));
        foreach (var instance in new[] { A, B, C })
        {
            var (_, introspection) = await client.IntrospectAsync(instance, refreshed.GetProperty("access_token").GetString()!);
            Assert.True(introspection.GetProperty("active").GetBoolean(), $"instance {ClusterFixture.Names[instance]}: {introspection}");
            Assert.Equal(user.Id, introspection.GetProperty("sub").GetString());
        }
    }

    [Fact]
    public async Task A_revocation_on_A_shows_at_introspection_on_C_within_a_second()
    {
        await cluster.StartAsync();
        using var client = await SignedInClientAsync();
        var tokens = await client.CodeFlowAsync(A, B);
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        await AssertActiveAsync(client, C, accessToken);
        await AssertActiveAsync(client, C, accessToken); // now answered from C's cache

        var (revokeStatus, _) = await client.RevokeAsync(A, tokens.GetProperty("refresh_token").GetString()!, "refresh_token");

        // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of the same grant. C hears of it
        // by PostgreSQL NOTIFY, sent in the revoking transaction.
        Assert.Equal(HttpStatusCode.OK, revokeStatus);
        await AssertInactiveWithinASecondAsync(client, C, accessToken);
        var (_, refreshToken) = await client.IntrospectAsync(B, tokens.GetProperty("refresh_token").GetString()!);
        Assert.False(refreshToken.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task The_same_refresh_token_sent_to_A_and_B_at_the_same_moment_gives_exactly_one_success()
    {
        await cluster.StartAsync();
        using var client = await SignedInClientAsync();
        for (var round = 0; round < 5; round++)
        {
            var tokens = await client.CodeFlowAsync(A, C);
            var refreshToken = tokens.GetProperty("refresh_token").GetString()!;

            var results = await Task.WhenAll(client.RefreshAsync(A, refreshToken), client.RefreshAsync(B, refreshToken));

            Assert.Single(results, r => r.Status == HttpStatusCode.OK);
            var loser = Assert.Single(results, r => r.Status != HttpStatusCode.OK);
            Assert.Equal(HttpStatusCode.BadRequest, loser.Status);
            Assert.Equal("invalid_grant", loser.Body.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task Pruning_on_all_three_at_once_ends_in_the_state_one_run_would_leave()
    {
        await cluster.StartAsync();
        var old = DateTime.UtcNow.AddDays(-30);
        var dead = new List<string>();
        var live = new List<string>();
        await cluster.WithDatabaseAsync(async db =>
        {
            var application = await db.Applications.SingleAsync(a => a.ClientId == ClusterFixture.ClientId);
            for (var i = 0; i < 300; i++)
            {
                // Dead: redeemed or revoked long ago, or expired long ago. Live: valid and not expired, however old.
                var status = (i % 3) switch { 0 => Statuses.Redeemed, 1 => Statuses.Revoked, _ => Statuses.Valid };
                var expires = status == Statuses.Valid && i % 2 == 0 ? DateTime.UtcNow.AddDays(1) : old.AddMinutes(1);
                var token = new OAuthToken
                {
                    ApplicationId = application.Id,
                    Subject = "prune-subject",
                    Type = TokenTypes.RefreshToken,
                    Status = status,
                    ReferenceId = Guid.NewGuid().ToString("N"),
                    CreationDate = old,
                    ExpirationDate = expires,
                    RedemptionDate = status == Statuses.Redeemed ? old : null,
                };
                db.Tokens.Add(token);
                (status == Statuses.Valid && expires > DateTime.UtcNow ? live : dead).Add(token.Id);
            }

            return await db.SaveChangesAsync();
        });

        var prunes = Enumerable.Range(0, 3).Select(_ => cluster.StartPrune()).ToList();
        var exitCodes = await Task.WhenAll(prunes.Select(p => p.WaitForExitAsync(TimeSpan.FromSeconds(60))));

        for (var i = 0; i < prunes.Count; i++)
        {
            Assert.True(exitCodes[i] == 0, $"prune {i}: exit {exitCodes[i]}\n{prunes[i].StandardOutput}\n{prunes[i].StandardError}");
            prunes[i].Dispose();
        }

        var remaining = await cluster.WithDatabaseAsync(db => db.Tokens.Where(t => t.Subject == "prune-subject").Select(t => t.Id).ToListAsync());
        Assert.Equal(live.Order(StringComparer.Ordinal), remaining.Order(StringComparer.Ordinal));
        Assert.NotEmpty(dead);
    }

    [Fact]
    public async Task After_a_kill_9_of_B_the_others_keep_serving_and_B_restarts_cleanly()
    {
        await cluster.StartAsync();
        using var client = await SignedInClientAsync();
        var tokens = await client.CodeFlowAsync(B, C);

        cluster.Kill(B);
        var (statusA, onA) = await client.RefreshAsync(A, tokens.GetProperty("refresh_token").GetString()!);
        var (statusC, onC) = await client.RefreshAsync(C, onA.GetProperty("refresh_token").GetString()!);
        await cluster.StartInstanceAsync(B);
        var (statusB, onB) = await client.RefreshAsync(B, onC.GetProperty("refresh_token").GetString()!);
        var (_, introspection) = await client.IntrospectAsync(B, tokens.GetProperty("access_token").GetString()!);

        Assert.Equal(HttpStatusCode.OK, statusA);
        Assert.Equal(HttpStatusCode.OK, statusC);
        Assert.Equal(HttpStatusCode.OK, statusB);
        Assert.True(onB.TryGetProperty("refresh_token", out _));
        // A token issued before the kill, by an instance that never stopped, is still good on the restarted one.
        Assert.True(introspection.GetProperty("active").GetBoolean(), introspection.ToString());
        Assert.DoesNotContain("\"LogLevel\":\"Critical\"", cluster.Process(B).StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_access_token_on_A_is_inactive_on_Bs_cached_answer_within_a_second()
    {
        await cluster.StartAsync();
        await cluster.WaitForRevocationListenerAsync(B);
        using var client = await SignedInClientAsync();
        var accessToken = (await client.CodeFlowAsync(A, A)).GetProperty("access_token").GetString()!;
        await AssertActiveAsync(client, B, accessToken);
        await AssertActiveAsync(client, B, accessToken);

        var (status, _) = await client.RevokeAsync(A, accessToken, "access_token");

        Assert.Equal(HttpStatusCode.OK, status);
        await AssertInactiveWithinASecondAsync(client, B, accessToken);
    }

    [Fact]
    public async Task Revocations_on_A_reach_B_within_a_second_while_Bs_notification_connection_is_cut_and_after_it_is_restored()
    {
        await cluster.StartAsync();
        await cluster.WaitForRevocationListenerAsync(B);
        using var client = await SignedInClientAsync();

        // Cut: B has lost its notifications and reads the database.
        var duringCut = await client.CodeFlowAsync(A, A);
        await AssertActiveAsync(client, B, duringCut.GetProperty("access_token").GetString()!);
        await cluster.CutRevocationListenerAsync(B);
        await client.RevokeAsync(A, duringCut.GetProperty("refresh_token").GetString()!, "refresh_token");
        await AssertInactiveWithinASecondAsync(client, B, duringCut.GetProperty("access_token").GetString()!);

        // Restored: B listens again, caches again, and hears the next revocation.
        await cluster.WaitForRevocationListenerAsync(B);
        var afterRestore = await client.CodeFlowAsync(A, A);
        await AssertActiveAsync(client, B, afterRestore.GetProperty("access_token").GetString()!);
        await AssertActiveAsync(client, B, afterRestore.GetProperty("access_token").GetString()!);
        await client.RevokeAsync(A, afterRestore.GetProperty("refresh_token").GetString()!, "refresh_token");
        await AssertInactiveWithinASecondAsync(client, B, afterRestore.GetProperty("access_token").GetString()!);
    }

    [Fact]
    public async Task Without_its_notification_connection_B_fails_closed_and_reads_revocations_from_the_database()
    {
        await cluster.StartAsync();
        await cluster.WaitForRevocationListenerAsync(B);
        using var client = await SignedInClientAsync();
        var tokens = await client.CodeFlowAsync(A, A);
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        await AssertActiveAsync(client, B, accessToken);

        // A revocation written straight into the database sends no notice: while B is subscribed, its cached answer
        // stands (which shows the answer is cached, and what a lost notice would cost)...
        var family = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(accessToken).GetPayloadValue<string>(IdentityServer.Tokens.TokenIssuer.AuthorizationIdClaim);
        await cluster.WithDatabaseAsync(db => db.Authorizations.Where(a => a.Id == family)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.Status, Statuses.Revoked)));
        await AssertActiveAsync(client, B, accessToken);

        // ...and once B's connection is cut, notices may be lost, so B stops trusting its cache: the database answers.
        await cluster.CutRevocationListenerAsync(B);
        await AssertInactiveWithinASecondAsync(client, B, accessToken);
    }

    private static async Task AssertActiveAsync(ClusterClient client, int instance, string accessToken)
    {
        var (_, answer) = await client.IntrospectAsync(instance, accessToken);
        Assert.True(answer.GetProperty("active").GetBoolean(), $"instance {ClusterFixture.Names[instance]}: {answer}");
    }

    /// <summary>Introspects on <paramref name="instance"/> until the token is inactive; fails if that takes a second or more.</summary>
    private static async Task AssertInactiveWithinASecondAsync(ClusterClient client, int instance, string accessToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var (_, answer) = await client.IntrospectAsync(instance, accessToken);
            if (!answer.GetProperty("active").GetBoolean())
            {
                return;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"instance {ClusterFixture.Names[instance]} still active after {clock.ElapsedMilliseconds} ms");
            await Task.Delay(20);
        }
    }

    /// <summary>A browser in which a fresh user signed in (through a code flow on A), ready for more code flows.</summary>
    private async Task<ClusterClient> SignedInClientAsync()
    {
        var user = await cluster.CreateUserAsync(Password);
        var client = new ClusterClient(cluster);
        await client.AuthorizeAsync(start: A, finish: A, user.UserName!, Password);
        return client;
    }
}
