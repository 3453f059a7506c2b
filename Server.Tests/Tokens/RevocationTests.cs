using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Tokens;

/// <summary>
/// Token revocation (RFC 7009) for each token type, with and without hints, across clients; and the service methods
/// that revoke every grant of a person or of a client. Runs on SQLite and PostgreSQL.
/// </summary>
public abstract class RevocationTests(ServerFactory server)
{
    /// <summary>No hint, the right hint, a wrong one and an unknown one: §2.1, a hint only orders the search.</summary>
    private static readonly string?[] Hints = [null, "access_token", "refresh_token", "something_else"];

    [Fact]
    public async Task Revoking_an_access_token_makes_that_token_inactive_whatever_the_hint()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        foreach (var hint in Hints)
        {
            var first = await scenario.SignInAsync();
            var sibling = await scenario.RotateAsync(first.RefreshToken!);

            var answer = await scenario.RevokeAsync(first.AccessToken, hint: hint);

            Assert.True(answer.Status == HttpStatusCode.OK, $"hint {hint}: {answer.Raw}");
            await scenario.AssertInactiveAsync(first.AccessToken);
            // Only that jti: the family and its other access tokens stand.
            await scenario.AssertActiveAsync(sibling.AccessToken);
        }
    }

    [Fact]
    public async Task A_revoked_access_token_stays_inactive_until_it_expires()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();
        Assert.Equal(HttpStatusCode.OK, (await scenario.RevokeAsync(tokens.AccessToken)).Status);

        server.Time.Advance(TimeSpan.FromMinutes(9));
        await scenario.AssertInactiveAsync(tokens.AccessToken);

        // The jti is remembered exactly as long as the token could be presented, so pruning may drop it after that.
        var exp = new JsonWebToken(tokens.AccessToken).ValidTo;
        var record = await server.WithDatabaseAsync(db => db.RevokedAccessTokens.AsNoTracking().SingleAsync(r => r.Jti == tokens.Jti));
        Assert.Equal(exp, DateTime.SpecifyKind(record.ExpirationDate, DateTimeKind.Utc));
    }

    [Fact]
    public async Task Revoking_a_refresh_token_revokes_its_family_whatever_the_hint()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        foreach (var hint in Hints)
        {
            var first = await scenario.SignInAsync();
            var current = await scenario.RotateAsync(first.RefreshToken!);
            var otherFamily = await scenario.SignInAsync();

            var answer = await scenario.RevokeAsync(current.RefreshToken!, hint: hint);

            Assert.True(answer.Status == HttpStatusCode.OK, $"hint {hint}: {answer.Raw}");
            Assert.Equal("invalid_grant", (await scenario.RefreshAsync(current.RefreshToken!)).Error);
            // RFC 7009 §2.1: access tokens of the same grant are invalidated too.
            await scenario.AssertInactiveAsync(first.AccessToken);
            await scenario.AssertInactiveAsync(current.AccessToken);
            var (family, _) = await scenario.FamilyAsync(TokenScenario.FamilyOf(first));
            Assert.Equal(Statuses.Revoked, family.Status);

            await scenario.AssertActiveAsync(otherFamily.AccessToken);
            await scenario.RotateAsync(otherFamily.RefreshToken!);
        }
    }

    [Fact]
    public async Task Another_clients_tokens_are_not_revoked_and_the_answer_is_still_200()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var intruder = await TestData.CreateClientAsync(server);
        var tokens = await scenario.SignInAsync();

        foreach (var hint in new[] { null, "access_token", "refresh_token" })
        {
            Assert.Equal(HttpStatusCode.OK, (await scenario.RevokeAsync(tokens.AccessToken, intruder, hint)).Status);
            Assert.Equal(HttpStatusCode.OK, (await scenario.RevokeAsync(tokens.RefreshToken!, intruder, hint)).Status);
        }

        await scenario.AssertActiveAsync(tokens.AccessToken);
        await scenario.RotateAsync(tokens.RefreshToken!);
    }

    [Fact]
    public async Task Unknown_malformed_expired_and_already_revoked_tokens_get_200()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();
        Assert.Equal(HttpStatusCode.OK, (await scenario.RevokeAsync(tokens.RefreshToken!)).Status);
        var expired = await scenario.SignInAsync();
        server.Time.Advance(TimeSpan.FromMinutes(11));

        foreach (var token in new[]
        {
            Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32)), // well-formed, unknown
            "not a token",
            "a.b.c",
            tokens.RefreshToken!, // already revoked
            expired.AccessToken,
        })
        {
            var answer = await scenario.RevokeAsync(token);
            Assert.Equal(HttpStatusCode.OK, answer.Status);
        }
    }

    [Fact]
    public async Task An_unauthenticated_request_gets_401_and_revokes_nothing()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();

        var anonymous = await scenario.PostAsync("/connect/revoke", caller: null, new() { ["token"] = tokens.RefreshToken! });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
        Assert.Equal("invalid_client", anonymous.Error);

        var wrongSecret = await scenario.RevokeAsync(tokens.AccessToken, scenario.App with { Secret = "wrong" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.Status);
        Assert.Equal("invalid_client", wrongSecret.Error);

        await scenario.AssertActiveAsync(tokens.AccessToken);
        await scenario.RotateAsync(tokens.RefreshToken!);
    }

    [Fact]
    public async Task A_public_client_can_revoke_its_own_refresh_token()
    {
        using var scenario = await TokenScenario.CreateAsync(server, confidential: false);
        var tokens = await scenario.SignInAsync();

        // client_id alone identifies a public client (RFC 7009 §2.1 with RFC 6749 §2.3); the token itself is the proof.
        var answer = await scenario.RevokeAsync(tokens.RefreshToken!);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("invalid_grant", (await scenario.RefreshAsync(tokens.RefreshToken!)).Error);
        await scenario.AssertInactiveAsync(tokens.AccessToken);
    }

    [Fact]
    public async Task A_request_without_a_token_is_invalid()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var answer = await scenario.PostAsync("/connect/revoke", scenario.App, []);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("invalid_request", answer.Error);
    }

    [Fact]
    public async Task Revoking_a_subject_ends_every_grant_of_that_person_only()
    {
        using var alice = await TokenScenario.CreateAsync(server);
        using var bob = await alice.WithAnotherUserAsync();
        var secondApp = await TestData.CreateClientAsync(server, scopes: [.. TokenScenario.StandardScopes.Split(' '), alice.Api]);
        var aliceOnApp = await alice.SignInAsync();
        var aliceOnSecondApp = await alice.SignInAsync(client: secondApp);
        var bobOnApp = await bob.SignInAsync();

        Assert.Equal(2, await WithTokenFamiliesAsync(g => g.RevokeSubjectAsync(alice.User.Id, CancellationToken.None)));

        await AssertFamilyEndedAsync(alice, aliceOnApp, alice.App);
        await AssertFamilyEndedAsync(alice, aliceOnSecondApp, secondApp);
        await bob.AssertActiveAsync(bobOnApp.AccessToken);
        await bob.RotateAsync(bobOnApp.RefreshToken!);
        // Nothing left to revoke: a second call changes nothing.
        Assert.Equal(0, await WithTokenFamiliesAsync(g => g.RevokeSubjectAsync(alice.User.Id, CancellationToken.None)));
    }

    [Fact]
    public async Task Revoking_a_client_ends_its_grants_for_one_person_or_for_everyone()
    {
        using var alice = await TokenScenario.CreateAsync(server);
        using var bob = await alice.WithAnotherUserAsync();
        var secondApp = await TestData.CreateClientAsync(server, scopes: [.. TokenScenario.StandardScopes.Split(' '), alice.Api]);
        var aliceOnApp = await alice.SignInAsync();
        var aliceAgainOnApp = await alice.SignInAsync();
        var aliceOnSecondApp = await alice.SignInAsync(client: secondApp);
        var bobOnApp = await bob.SignInAsync();

        // One person's grants of the client (the account page's "remove this app").
        Assert.Equal(1, await WithTokenFamiliesAsync(g => g.RevokeClientAsync(alice.App.ApplicationId, bob.User.Id, CancellationToken.None)));
        await AssertFamilyEndedAsync(bob, bobOnApp, bob.App);
        await alice.AssertActiveAsync(aliceOnApp.AccessToken);

        // Everyone's (the admin's "revoke this client"): other clients are untouched.
        Assert.Equal(2, await WithTokenFamiliesAsync(g => g.RevokeClientAsync(alice.App.ApplicationId, null, CancellationToken.None)));
        await AssertFamilyEndedAsync(alice, aliceOnApp, alice.App);
        await AssertFamilyEndedAsync(alice, aliceAgainOnApp, alice.App);
        await alice.AssertActiveAsync(aliceOnSecondApp.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await alice.RefreshAsync(aliceOnSecondApp.RefreshToken!, client: secondApp)).Status);
    }

    [Fact]
    public async Task Discovery_lists_the_revocation_endpoint_and_its_auth_methods()
    {
        using var http = server.CreateClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative)));
        var root = discovery.RootElement;

        var endpoint = root.GetProperty("revocation_endpoint").GetString()!;
        Assert.Equal(ServerFactory.Issuer + "/connect/revoke", endpoint);
        // Public clients revoke with their client_id alone, so "none" is listed along with the secret and key methods.
        Assert.Equal(["client_secret_basic", "client_secret_post", "none", "private_key_jwt"],
            root.GetProperty("revocation_endpoint_auth_methods_supported").EnumerateArray().Select(m => m.GetString()).Order(StringComparer.Ordinal));

        using var response = await http.PostAsync(new Uri(new Uri(endpoint).AbsolutePath, UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = "x" }));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<T> WithTokenFamiliesAsync<T>(Func<TokenFamilies, Task<T>> work)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TokenFamilies>());
    }

    private static async Task AssertFamilyEndedAsync(TokenScenario scenario, IssuedTokens tokens, TestClient client)
    {
        await scenario.AssertInactiveAsync(tokens.AccessToken);
        Assert.Equal("invalid_grant", (await scenario.RefreshAsync(tokens.RefreshToken!, client: client)).Error);
    }
}

[Collection(SqliteTokenServer.Name)]
public sealed class SqliteRevocationTests(SqliteServer server) : RevocationTests(server);

[Collection(PostgresTokenServer.Name)]
public sealed class PostgresRevocationTests(PostgresServer server) : RevocationTests(server);
