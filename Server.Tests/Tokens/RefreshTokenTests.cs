using System.Net;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Tokens;

/// <summary>
/// Rotating refresh tokens (RFC 6749 §6, RFC 9700 §4.14.2): rotation, reuse detection that revokes the family,
/// one winner among concurrent refreshes, scope narrowing, sliding and absolute expiry. Runs on SQLite and PostgreSQL.
/// </summary>
public abstract class RefreshTokenTests(ServerFactory server)
{
    [Fact]
    public async Task Each_refresh_rotates_the_token_and_redeems_the_one_presented()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var first = await scenario.SignInAsync();
        Assert.NotNull(first.RefreshToken);

        var second = await scenario.RotateAsync(first.RefreshToken!);
        Assert.NotNull(second.RefreshToken);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.NotEqual(first.Jti, second.Jti);
        Assert.NotNull(second.IdToken); // openid was granted (OpenID Connect Core §12.2)
        Assert.Equal(scenario.FullScope, second.Scope);

        var (family, tokens) = await scenario.FamilyAsync(TokenScenario.FamilyOf(first));
        Assert.Equal(TokenScenario.FamilyOf(first), TokenScenario.FamilyOf(second));
        Assert.Equal(Statuses.Valid, family.Status);
        Assert.Collection(tokens,
            old =>
            {
                Assert.Equal(Statuses.Redeemed, old.Status);
                Assert.NotNull(old.RedemptionDate);
            },
            current => Assert.Equal(Statuses.Valid, current.Status));

        // The chain goes on with the new token.
        var third = await scenario.RotateAsync(second.RefreshToken!);
        Assert.NotEqual(second.RefreshToken, third.RefreshToken);
    }

    [Fact]
    public async Task A_grant_and_its_code_are_stored_together_or_not_at_all()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var first = await scenario.SignInAsync();
        var existing = await scenario.FamilyAsync(TokenScenario.FamilyOf(first));
        var taken = existing.RefreshTokens[0].ReferenceId;

        // A code whose reference collides with a stored token (unique index) fails the insert: its grant must not remain.
        var failed = await server.WithDatabaseAsync(async db =>
        {
            var grants = new GrantStore(db, server.Time, server.Services.GetRequiredService<NpgsqlPoolReset>());
            var grant = new OAuthAuthorization
            {
                ApplicationId = scenario.App.ApplicationId,
                Subject = existing.Family.Subject,
                Status = Statuses.Valid,
                Type = AuthorizationTypes.AdHoc,
                CreationDate = grants.Now,
            };
            var (code, _) = grants.NewToken(TokenTypes.AuthorizationCode, scenario.App.ApplicationId, grant.Id, grant.Subject,
                GrantPayload.Deserialize(existing.RefreshTokens[0].Payload), grants.Now.AddMinutes(1));
            code.ReferenceId = taken;
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => grants.AddGrantWithTokenAsync(grant, code, CancellationToken.None));
            return grant.Id;
        });

        Assert.False(await server.WithDatabaseAsync(db => db.Authorizations.AnyAsync(a => a.Id == failed)));
        // And the normal path stores both.
        var second = await scenario.SignInAsync();
        Assert.Equal(Statuses.Valid, (await scenario.FamilyAsync(TokenScenario.FamilyOf(second))).Family.Status);
    }

    [Fact]
    public async Task No_refresh_token_without_offline_access_or_the_refresh_grant()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var withoutOfflineAccess = await scenario.SignInAsync("openid profile " + scenario.Api);
        Assert.Null(withoutOfflineAccess.RefreshToken);

        var codeOnly = await TestData.CreateClientAsync(server, grantTypes: ["authorization_code"]);
        var withoutGrant = await scenario.SignInAsync(TokenScenario.StandardScopes, codeOnly);
        Assert.Null(withoutGrant.RefreshToken);
    }

    [Fact]
    public async Task Reusing_a_redeemed_token_revokes_the_whole_family()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var first = await scenario.SignInAsync();
        var second = await scenario.RotateAsync(first.RefreshToken!);
        var newest = await scenario.RotateAsync(second.RefreshToken!);
        var otherFamily = await scenario.SignInAsync();
        await scenario.AssertActiveAsync(newest.AccessToken);

        var reuse = await scenario.RefreshAsync(first.RefreshToken!);
        Assert.Equal(HttpStatusCode.BadRequest, reuse.Status);
        Assert.Equal("invalid_grant", reuse.Error);

        // RFC 9700 §4.14.2: the server cannot tell who is the attacker, so the newest token is refused too...
        var newestAfter = await scenario.RefreshAsync(newest.RefreshToken!);
        Assert.Equal(HttpStatusCode.BadRequest, newestAfter.Status);
        Assert.Equal("invalid_grant", newestAfter.Error);

        // ...and every access token of the family is inactive at once.
        foreach (var access in new[] { first, second, newest })
        {
            await scenario.AssertInactiveAsync(access.AccessToken);
        }

        var (family, tokens) = await scenario.FamilyAsync(TokenScenario.FamilyOf(first));
        Assert.Equal(Statuses.Revoked, family.Status);
        Assert.All(tokens, t => Assert.Equal(Statuses.Revoked, t.Status));

        // Only that family: another sign-in of the same user and app is untouched.
        await scenario.AssertActiveAsync(otherFamily.AccessToken);
        await scenario.RotateAsync(otherFamily.RefreshToken!);
    }

    [Fact]
    public async Task Concurrent_refreshes_with_one_token_have_exactly_one_winner()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        for (var round = 0; round < 5; round++)
        {
            var tokens = await scenario.SignInAsync();
            var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => scenario.RefreshAsync(tokens.RefreshToken!))));

            Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
            Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), a =>
            {
                Assert.Equal(HttpStatusCode.BadRequest, a.Status);
                Assert.Equal("invalid_grant", a.Error);
            });

            // The database let exactly one request rotate: one successor, no matter how the requests interleaved.
            var (family, stored) = await scenario.FamilyAsync(TokenScenario.FamilyOf(tokens));
            Assert.Equal(2, stored.Count);
            // The losers were treated as reuse: the family is revoked, the winner's token with it.
            Assert.Equal(Statuses.Revoked, family.Status);
            var winner = answers.Single(a => a.Status == HttpStatusCode.OK).Body.GetProperty("refresh_token").GetString()!;
            Assert.Equal("invalid_grant", (await scenario.RefreshAsync(winner)).Error);
        }
    }

    [Fact]
    public async Task A_narrowed_scope_applies_to_that_refresh_only()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var first = await scenario.SignInAsync();

        var narrowed = await scenario.RotateAsync(first.RefreshToken!, "openid " + scenario.Api);
        Assert.Equal("openid " + scenario.Api, narrowed.Scope);
        Assert.Equal("openid " + scenario.Api, new JsonWebToken(narrowed.AccessToken).GetPayloadValue<string>("scope"));
        // Claims of the scopes dropped are not released (OpenID Connect Core §5.4).
        var idToken = new JsonWebToken(narrowed.IdToken);
        Assert.False(idToken.TryGetPayloadValue<string>("email", out _));
        Assert.False(idToken.TryGetPayloadValue<string>("name", out _));

        // RFC 6749 §6: the new refresh token carries the scope originally granted, not the narrowed one.
        var widenedAgain = await scenario.RotateAsync(narrowed.RefreshToken!, "openid profile email");
        Assert.Equal("openid profile email", widenedAgain.Scope);
        var full = await scenario.RotateAsync(widenedAgain.RefreshToken!);
        Assert.Equal(scenario.FullScope, full.Scope);
        Assert.Equal(scenario.FullScope, new JsonWebToken(full.AccessToken).GetPayloadValue<string>("scope"));
    }

    [Fact]
    public async Task A_scope_wider_than_the_grant_is_refused()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        // The app may ask for profile and the API, but this sign-in granted neither.
        var tokens = await scenario.SignInAsync("openid offline_access");

        foreach (var scope in new[] { "openid offline_access profile", scenario.Api, "openid unknown-scope" })
        {
            var answer = await scenario.RefreshAsync(tokens.RefreshToken!, scope);
            Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
            Assert.Equal("invalid_scope", answer.Error);
        }

        // A refused scope is a bad request, not a use: the token was not redeemed and still works.
        var refreshed = await scenario.RotateAsync(tokens.RefreshToken!);
        Assert.Equal("openid offline_access", refreshed.Scope);
    }

    [Fact]
    public async Task A_token_of_another_client_is_refused_without_harming_its_owner()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var other = await TestData.CreateClientAsync(server);
        var tokens = await scenario.SignInAsync();

        var stolen = await scenario.RefreshAsync(tokens.RefreshToken!, client: other);
        Assert.Equal(HttpStatusCode.BadRequest, stolen.Status);
        Assert.Equal("invalid_grant", stolen.Error);

        await scenario.RotateAsync(tokens.RefreshToken!);
    }

    [Fact]
    public async Task Sliding_expiry_by_default_ends_a_token_14_days_after_its_last_use()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();

        server.Time.Advance(TimeSpan.FromDays(14) - TimeSpan.FromMinutes(1));
        var renewed = await scenario.RotateAsync(tokens.RefreshToken!);

        // Each use restarts the 14 days; without use the token dies.
        server.Time.Advance(TimeSpan.FromDays(14) - TimeSpan.FromMinutes(1));
        renewed = await scenario.RotateAsync(renewed.RefreshToken!);

        server.Time.Advance(TimeSpan.FromDays(14) + TimeSpan.FromSeconds(1));
        var expired = await scenario.RefreshAsync(renewed.RefreshToken!);
        Assert.Equal(HttpStatusCode.BadRequest, expired.Status);
        Assert.Equal("invalid_grant", expired.Error);
    }

    [Fact]
    public async Task Absolute_expiry_by_default_ends_a_family_after_90_days_however_often_it_is_used()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();

        for (var day = 10; day <= 80; day += 10)
        {
            server.Time.Advance(TimeSpan.FromDays(10));
            tokens = await scenario.RotateAsync(tokens.RefreshToken!);
        }

        // Day 90 minus a minute still works, but the token it gets ends with the family at day 90, not 14 days later.
        server.Time.Advance(TimeSpan.FromDays(10) - TimeSpan.FromMinutes(1));
        tokens = await scenario.RotateAsync(tokens.RefreshToken!);

        server.Time.Advance(TimeSpan.FromMinutes(1));
        var ended = await scenario.RefreshAsync(tokens.RefreshToken!);
        Assert.Equal(HttpStatusCode.BadRequest, ended.Status);
        Assert.Equal("invalid_grant", ended.Error);
    }

    [Fact]
    public async Task A_client_can_have_its_own_sliding_and_absolute_lifetimes()
    {
        using var scenario = await TokenScenario.CreateAsync(server, settings: new ClientSettings
        {
            RefreshTokenSlidingLifetime = TimeSpan.FromDays(1),
            RefreshTokenAbsoluteLifetime = TimeSpan.FromDays(3),
        });

        // Sliding: one day without use ends the token.
        var idle = await scenario.SignInAsync();
        server.Time.Advance(TimeSpan.FromHours(23));
        idle = await scenario.RotateAsync(idle.RefreshToken!);
        server.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        Assert.Equal("invalid_grant", (await scenario.RefreshAsync(idle.RefreshToken!)).Error);

        // Absolute: used every 20 hours (well within the sliding day), the family still ends after 3 days.
        var busy = await scenario.SignInAsync();
        for (var hours = 20; hours <= 60; hours += 20)
        {
            server.Time.Advance(TimeSpan.FromHours(20));
            busy = await scenario.RotateAsync(busy.RefreshToken!);
        }

        server.Time.Advance(TimeSpan.FromHours(20));
        Assert.Equal("invalid_grant", (await scenario.RefreshAsync(busy.RefreshToken!)).Error);
    }
}

[Collection(SqliteTokenServer.Name)]
public sealed class SqliteRefreshTokenTests(SqliteServer server) : RefreshTokenTests(server);

[Collection(PostgresTokenServer.Name)]
public sealed class PostgresRefreshTokenTests(PostgresServer server) : RefreshTokenTests(server);
