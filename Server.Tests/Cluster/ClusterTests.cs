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
    public async Task A_revocation_on_A_shows_at_introspection_on_C_at_once()
    {
        await cluster.StartAsync();
        using var client = await SignedInClientAsync();
        var tokens = await client.CodeFlowAsync(A, B);
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        var (_, before) = await client.IntrospectAsync(C, accessToken);
        Assert.True(before.GetProperty("active").GetBoolean());

        var (revokeStatus, _) = await client.RevokeAsync(A, tokens.GetProperty("refresh_token").GetString()!, "refresh_token");
        var (_, after) = await client.IntrospectAsync(C, accessToken);

        // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of the same grant.
        Assert.Equal(HttpStatusCode.OK, revokeStatus);
        Assert.False(after.GetProperty("active").GetBoolean(), after.ToString());
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

    /// <summary>A browser in which a fresh user signed in (through a code flow on A), ready for more code flows.</summary>
    private async Task<ClusterClient> SignedInClientAsync()
    {
        var user = await cluster.CreateUserAsync(Password);
        var client = new ClusterClient(cluster);
        await client.AuthorizeAsync(start: A, finish: A, user.UserName!, Password);
        return client;
    }
}
