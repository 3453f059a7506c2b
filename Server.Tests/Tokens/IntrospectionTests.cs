using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace IdentityServer.Tests.Tokens;

/// <summary>
/// Token introspection (RFC 7662): the full answer for an active token, and exactly {"active":false} for everything
/// that is not active for the caller — expired, revoked, garbage, another audience, a disabled client. Runs on SQLite
/// and PostgreSQL.
/// </summary>
public abstract class IntrospectionTests(ServerFactory server)
{
    [Fact]
    public async Task An_active_access_token_is_described_with_every_RFC_7662_field()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();
        var jwt = new JsonWebToken(tokens.AccessToken);

        var answer = await scenario.IntrospectAsync(tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("no-store", answer.Response.Headers.CacheControl?.ToString());
        var body = answer.Body;
        Assert.True(body.GetProperty("active").GetBoolean());
        Assert.Equal(ServerFactory.Issuer, body.GetProperty("iss").GetString());
        Assert.Equal(scenario.User.Id, body.GetProperty("sub").GetString());
        Assert.Equal(scenario.App.ClientId, body.GetProperty("client_id").GetString());
        Assert.Equal(scenario.FullScope, body.GetProperty("scope").GetString());
        Assert.Equal(new[] { scenario.Resource, ServerFactory.Issuer }.Order(StringComparer.Ordinal), Audiences(body).Order(StringComparer.Ordinal));
        var now = server.Time.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(now, body.GetProperty("iat").GetInt64());
        Assert.Equal(now + 600, body.GetProperty("exp").GetInt64()); // 10 minutes by default
        Assert.Equal(jwt.GetPayloadValue<string>("jti"), body.GetProperty("jti").GetString());
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
    }

    [Fact]
    public async Task A_refresh_token_is_active_only_for_the_client_it_was_issued_to()
    {
        using var scenario = await TokenScenario.CreateAsync(server, appCanIntrospect: true);
        var tokens = await scenario.SignInAsync();

        var answer = await scenario.IntrospectAsync(tokens.RefreshToken!, scenario.App);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var body = answer.Body;
        Assert.True(body.GetProperty("active").GetBoolean());
        Assert.Equal(ServerFactory.Issuer, body.GetProperty("iss").GetString());
        Assert.Equal(scenario.User.Id, body.GetProperty("sub").GetString());
        Assert.Equal(scenario.App.ClientId, body.GetProperty("client_id").GetString());
        Assert.Equal(scenario.FullScope, body.GetProperty("scope").GetString());
        Assert.Equal(TimeSpan.FromDays(14).TotalSeconds, body.GetProperty("exp").GetInt64() - body.GetProperty("iat").GetInt64());
        // token_type names an access-token type (RFC 6749 §7.1); a refresh token has none, so none is claimed.
        Assert.False(body.TryGetProperty("token_type", out _));

        // Even a resource server allowed to introspect sees nothing of another client's refresh token.
        await scenario.AssertInactiveAsync(tokens.RefreshToken!);

        // Its status comes from the database: once rotated, the old one is inactive and the new one active.
        var rotated = await scenario.RotateAsync(tokens.RefreshToken!);
        await scenario.AssertInactiveAsync(tokens.RefreshToken!, scenario.App);
        await scenario.AssertActiveAsync(rotated.RefreshToken!, scenario.App);
    }

    [Fact]
    public async Task Expired_tokens_are_inactive()
    {
        using var scenario = await TokenScenario.CreateAsync(server, appCanIntrospect: true);
        var tokens = await scenario.SignInAsync();

        server.Time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        await scenario.AssertActiveAsync(tokens.AccessToken);
        server.Time.Advance(TimeSpan.FromSeconds(1));
        await scenario.AssertInactiveAsync(tokens.AccessToken);

        await scenario.AssertActiveAsync(tokens.RefreshToken!, scenario.App);
        server.Time.Advance(TimeSpan.FromDays(14));
        await scenario.AssertInactiveAsync(tokens.RefreshToken!, scenario.App);
    }

    [Fact]
    public async Task A_revoked_access_token_is_inactive_and_its_siblings_are_not()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var first = await scenario.SignInAsync();
        var sibling = await scenario.RotateAsync(first.RefreshToken!);

        Assert.Equal(HttpStatusCode.OK, (await scenario.RevokeAsync(first.AccessToken)).Status);

        await scenario.AssertInactiveAsync(first.AccessToken);
        // Only that jti: the family and its other access tokens stand.
        await scenario.AssertActiveAsync(sibling.AccessToken);
    }

    [Fact]
    public async Task Every_access_token_of_a_revoked_family_is_inactive()
    {
        using var scenario = await TokenScenario.CreateAsync(server, appCanIntrospect: true);
        var first = await scenario.SignInAsync();
        var second = await scenario.RotateAsync(first.RefreshToken!);

        Assert.Equal(HttpStatusCode.OK, (await scenario.RevokeAsync(second.RefreshToken!)).Status);

        await scenario.AssertInactiveAsync(first.AccessToken);
        await scenario.AssertInactiveAsync(second.AccessToken);
        await scenario.AssertInactiveAsync(second.RefreshToken!, scenario.App);
    }

    [Fact]
    public async Task Garbage_forgeries_and_other_kinds_of_token_are_inactive()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();
        var parts = tokens.AccessToken.Split('.');
        var badSignature = parts[0] + "." + parts[1] + "." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(256));
        var unknownOpaque = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

        foreach (var token in new[]
        {
            "garbage",
            "a.b.c",
            unknownOpaque,
            badSignature,
            Forge(tokens.AccessToken),
            tokens.IdToken!, // a JWT of ours, but not an access token (RFC 9068 §4: typ at+jwt)
        })
        {
            await scenario.AssertInactiveAsync(token);
        }

        // The same caller still sees the real token as active: the answers above are about the tokens, not the caller.
        await scenario.AssertActiveAsync(tokens.AccessToken);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_inactive_unless_it_was_issued_to_the_caller()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();
        var otherResourceServer = await TokenScenario.CreateResourceServerAsync(server, $"https://other-{Guid.NewGuid():N}.example");

        await scenario.AssertActiveAsync(tokens.AccessToken);
        await scenario.AssertInactiveAsync(tokens.AccessToken, otherResourceServer);

        // A token issued to the caller itself is visible to it whatever its audience.
        var own = await scenario.PostAsync("/connect/token", otherResourceServer, new() { ["grant_type"] = "client_credentials" });
        Assert.Equal(HttpStatusCode.OK, own.Status);
        var ownToken = own.Body.GetProperty("access_token").GetString()!;
        await scenario.AssertActiveAsync(ownToken, otherResourceServer);
        await scenario.AssertInactiveAsync(ownToken);
    }

    [Fact]
    public async Task An_unauthenticated_caller_gets_401()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();

        var anonymous = await scenario.PostAsync("/connect/introspect", caller: null, new() { ["token"] = tokens.AccessToken });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
        Assert.Equal("invalid_client", anonymous.Error);

        var wrongSecret = await scenario.IntrospectAsync(tokens.AccessToken, scenario.ResourceServer with { Secret = "wrong" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.Status);
        Assert.Equal("invalid_client", wrongSecret.Error);
        Assert.StartsWith("Basic", wrongSecret.Response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_without_the_introspection_permission_or_a_secret_learns_nothing()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();

        // The app is authenticated, but it is not a resource server allowed to introspect.
        var notPermitted = await scenario.IntrospectAsync(tokens.AccessToken, scenario.App);
        Assert.Equal(HttpStatusCode.Forbidden, notPermitted.Status);
        Assert.Equal("unauthorized_client", notPermitted.Error);
        Assert.False(notPermitted.Body.TryGetProperty("active", out _));

        // A public client proves nothing by its client_id, even if it was given the permission (RFC 7662 §2.1).
        var publicClient = await TestData.CreateClientAsync(server, confidential: false, canIntrospect: true, resource: scenario.Resource);
        var unauthenticated = await scenario.IntrospectAsync(tokens.AccessToken, publicClient);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.Status);
        Assert.Equal("invalid_client", unauthenticated.Error);
    }

    [Fact]
    public async Task Tokens_of_a_disabled_client_are_inactive_at_once()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();
        await scenario.AssertActiveAsync(tokens.AccessToken);

        await SetEnabledAsync(scenario.App, false);
        await scenario.AssertInactiveAsync(tokens.AccessToken);

        await SetEnabledAsync(scenario.App, true);
        await scenario.AssertActiveAsync(tokens.AccessToken);
    }

    [Fact]
    public async Task A_request_without_a_token_is_invalid()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var answer = await scenario.PostAsync("/connect/introspect", scenario.ResourceServer, []);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("invalid_request", answer.Error);
    }

    [Fact]
    public async Task Discovery_lists_the_introspection_endpoint_with_authenticated_methods_only()
    {
        using var http = server.CreateClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative)));
        var root = discovery.RootElement;

        var endpoint = root.GetProperty("introspection_endpoint").GetString()!;
        Assert.Equal(ServerFactory.Issuer + "/connect/introspect", endpoint);
        Assert.Equal(["client_secret_basic", "client_secret_post", "private_key_jwt"],
            root.GetProperty("introspection_endpoint_auth_methods_supported").EnumerateArray().Select(m => m.GetString()).Order(StringComparer.Ordinal));

        // The endpoint listed is the one that answers (and demands authentication).
        using var response = await http.PostAsync(new Uri(new Uri(endpoint).AbsolutePath, UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = "x" }));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task SetEnabledAsync(TestClient client, bool enabled)
    {
        await server.WithDatabaseAsync(db => db.Applications.Where(a => a.ClientId == client.ClientId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Enabled, enabled)));
        server.Services.GetRequiredService<ClientStore>().Invalidate(client.ClientId);
    }

    private static string[] Audiences(JsonElement body)
    {
        var aud = body.GetProperty("aud");
        return aud.ValueKind == JsonValueKind.Array ? [.. aud.EnumerateArray().Select(a => a.GetString()!)] : [aud.GetString()!];
    }

    /// <summary>The same claims, header type and algorithm as a real access token, signed with a key the server never published.</summary>
    private static string Forge(string accessToken)
    {
        var real = new JsonWebToken(accessToken);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        SecurityKey key = real.Alg.StartsWith("ES", StringComparison.Ordinal) ? new ECDsaSecurityKey(ec) : new RsaSecurityKey(rsa);
        key.KeyId = real.Kid;
        var claims = real.Claims.GroupBy(c => c.Type).ToDictionary(g => g.Key,
            g => g.Key is "exp" or "iat" or "auth_time" ? long.Parse(g.First().Value, CultureInfo.InvariantCulture)
                : g.Count() > 1 ? g.Select(c => c.Value).ToArray() : (object)g.First().Value);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "at+jwt",
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, real.Alg),
        });
    }
}

[Collection(SqliteTokenServer.Name)]
public sealed class SqliteIntrospectionTests(SqliteServer server) : IntrospectionTests(server);

[Collection(PostgresTokenServer.Name)]
public sealed class PostgresIntrospectionTests(PostgresServer server) : IntrospectionTests(server)
{
    /// <summary>
    /// When PostgreSQL drops every connection (as a restart does), the liveness check, which is sent outside
    /// EF Core (GrantQueries.AccessTokenLiveAsync), fails that request with 503 at most once, and the next ones are
    /// served on fresh connections.
    /// </summary>
    [Fact]
    public async Task After_the_database_drops_its_connections_introspection_fails_at_most_once()
    {
        using var scenario = await TokenScenario.CreateAsync(server);
        var tokens = await scenario.SignInAsync();
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => scenario.IntrospectAsync(tokens.AccessToken))); // a few pooled connections

        await using (var admin = new NpgsqlConnection(server.ConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", admin);
            await terminate.ExecuteNonQueryAsync();
        }

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await scenario.IntrospectAsync(tokens.AccessToken)).Status);
        }

        Assert.True(statuses.Count(s => s != HttpStatusCode.OK) <= 1, string.Join(", ", statuses));
        Assert.Equal(HttpStatusCode.OK, statuses[^1]);
    }
}
