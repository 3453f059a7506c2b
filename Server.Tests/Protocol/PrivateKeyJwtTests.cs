using System.Net;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// private_key_jwt client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9): each rule the server enforces
/// on a client assertion, the key sources (inline jwks, jwks_uri on a loopback server), and every endpoint behind the
/// shared client front. Each refusal is paired with the same request made right, so the test fails if the rule breaks.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class PrivateKeyJwtTests(SqliteServer server)
{
    [Theory]
    [InlineData(SecurityAlgorithms.RsaSha256)]
    [InlineData(SecurityAlgorithms.RsaSsaPssSha256)]
    [InlineData(SecurityAlgorithms.EcdsaSha256)]
    public async Task A_signed_assertion_authenticates_the_client_at_the_token_endpoint(string algorithm)
    {
        var keys = algorithm == SecurityAlgorithms.EcdsaSha256 ? ClientKeys.EcP256() : ClientKeys.Rsa(algorithm);
        var client = await KeyClientAsync(keys);

        var (status, body) = await ClientCredentialsAsync(keys.Assertion(client.ClientId, server.Time.GetUtcNow()));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
    }

    [Fact]
    public async Task A_replayed_assertion_is_refused()
    {
        var keys = ClientKeys.Rsa();
        var client = await KeyClientAsync(keys);
        var assertion = keys.Assertion(client.ClientId, server.Time.GetUtcNow());

        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(assertion)).Status);
        var (status, body) = await ClientCredentialsAsync(assertion);
        AssertInvalidClient(status, body, "jti");
    }

    [Fact]
    public async Task Concurrent_uses_of_one_assertion_let_exactly_one_through()
    {
        var keys = ClientKeys.Rsa();
        var client = await KeyClientAsync(keys);
        var assertion = keys.Assertion(client.ClientId, server.Time.GetUtcNow());

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ClientCredentialsAsync(assertion)));
        Assert.Equal(1, results.Count(r => r.Status == HttpStatusCode.OK));
        Assert.All(results.Where(r => r.Status != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Unauthorized, r.Status));
    }

    [Fact]
    public async Task The_audience_is_the_issuer_or_the_endpoint_and_only_one_value()
    {
        var keys = ClientKeys.Rsa();
        var client = await KeyClientAsync(keys);
        var now = server.Time.GetUtcNow();

        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now, "https://other.example")), "aud");
        // An assertion for another server that also names this one (the audience injection rfc7523bis closes).
        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now, new[] { ServerFactory.Issuer, "https://other.example" })), "aud");
        // OpenID Connect Core §9 / RFC 7523 §3: the token endpoint URL is accepted too (IssuerAudienceOnly is off by default).
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(keys.Assertion(client.ClientId, now, ServerFactory.Issuer + "/connect/token"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(keys.Assertion(client.ClientId, now, new[] { ServerFactory.Issuer }))).Status);
    }

    [Fact]
    public async Task Expired_long_lived_and_future_assertions_are_refused()
    {
        var keys = ClientKeys.Rsa();
        var client = await KeyClientAsync(keys);
        var now = server.Time.GetUtcNow();

        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now.AddMinutes(-5))), "expired");
        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now,
            change: c => c["exp"] = now.AddHours(1).ToUnixTimeSeconds())), "at most");
        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now, change: c => c.Remove("exp"))), "exp");
        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now,
            change: c => c["nbf"] = now.AddMinutes(2).ToUnixTimeSeconds())), "nbf");
        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now, change: c => c.Remove("jti"))), "jti");

        // The assertion made one minute ago expires 30 s of skew after its minute.
        var early = keys.Assertion(client.ClientId, now);
        server.Time.Advance(TimeSpan.FromSeconds(91));
        AssertInvalidClient(await ClientCredentialsAsync(early), "expired");
    }

    [Fact]
    public async Task Only_asymmetric_allow_listed_algorithms_are_accepted()
    {
        var keys = ClientKeys.Rsa();
        var client = await KeyClientAsync(keys);
        var now = server.Time.GetUtcNow();

        // HS256 with a key anyone could guess from the public JWK, and RS512 (not on the list), and an unsigned token.
        var hmac = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(keys.PublicJwk.PadRight(64, 'x'))) { KeyId = keys.KeyId };
        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now,
            credentials: new SigningCredentials(hmac, SecurityAlgorithms.HmacSha256))), "alg");
        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now,
            credentials: new SigningCredentials(keys.Key, SecurityAlgorithms.RsaSha512))), "alg");
        var unsigned = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(
            $$"""{"iss":"{{client.ClientId}}","sub":"{{client.ClientId}}","aud":"{{ServerFactory.Issuer}}","jti":"x1","exp":{{now.AddMinutes(1).ToUnixTimeSeconds()}}}""");
        AssertInvalidClient(await ClientCredentialsAsync(unsigned), "alg");
    }

    [Fact]
    public async Task A_key_that_is_not_registered_is_refused()
    {
        var registered = ClientKeys.Rsa();
        var client = await KeyClientAsync(registered);
        var stranger = ClientKeys.Rsa();

        AssertInvalidClient(await ClientCredentialsAsync(stranger.Assertion(client.ClientId, server.Time.GetUtcNow())), "kid");
        // The registered kid, but signed by another key.
        var forged = stranger.Assertion(client.ClientId, server.Time.GetUtcNow(),
            credentials: new SigningCredentials(new RsaSecurityKey(((RsaSecurityKey)stranger.Key).Rsa) { KeyId = registered.KeyId }, SecurityAlgorithms.RsaSha256));
        AssertInvalidClient(await ClientCredentialsAsync(forged), "signature");
    }

    [Fact]
    public async Task Iss_sub_and_client_id_must_all_name_the_client()
    {
        var keys = ClientKeys.Rsa();
        var client = await KeyClientAsync(keys);
        var other = await KeyClientAsync(keys);
        var now = server.Time.GetUtcNow();

        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(client.ClientId, now, change: c => c["sub"] = other.ClientId)), "iss and sub");
        var form = ClientKeys.Fields(keys.Assertion(client.ClientId, now));
        form["client_id"] = other.ClientId;
        AssertInvalidClient(await PostAsync("/connect/token", form, new() { ["grant_type"] = "client_credentials" }), "client_id");
    }

    [Fact]
    public async Task A_private_key_jwt_client_cannot_use_its_secret_and_methods_do_not_mix()
    {
        var keys = ClientKeys.Rsa();
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [], settings: keys.InlineSettings());
        using var http = server.CreateClient();

        // TestData gives every confidential client a secret: registered for private_key_jwt, it does not open the door.
        var bySecret = await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials" });
        Assert.Equal(HttpStatusCode.Unauthorized, bySecret.Status);
        Assert.Equal("invalid_client", bySecret.Body.GetProperty("error").GetString());

        var form = ClientKeys.Fields(keys.Assertion(client.ClientId, server.Time.GetUtcNow()));
        form["client_secret"] = client.Secret!;
        var (status, body) = await PostAsync("/connect/token", form, new() { ["grant_type"] = "client_credentials" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());

        // A secret client's assertion is refused too: it registered a secret, not keys.
        var secretClient = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        AssertInvalidClient(await ClientCredentialsAsync(keys.Assertion(secretClient.ClientId, server.Time.GetUtcNow())), "failed");
    }

    [Fact]
    public async Task Introspection_revocation_and_par_accept_assertions()
    {
        var keys = ClientKeys.Rsa();
        var client = await TestData.CreateClientAsync(server, grantTypes: ["authorization_code", "client_credentials"], scopes: [],
            canIntrospect: true, settings: keys.InlineSettings());
        var (_, token) = await ClientCredentialsAsync(keys.Assertion(client.ClientId, server.Time.GetUtcNow()));
        var accessToken = token.GetProperty("access_token").GetString()!;

        var (introspected, body) = await PostAsync("/connect/introspect", ClientKeys.Fields(keys.Assertion(client.ClientId, server.Time.GetUtcNow())),
            new() { ["token"] = accessToken });
        Assert.Equal(HttpStatusCode.OK, introspected);
        Assert.True(body.GetProperty("active").GetBoolean());

        var (revoked, _) = await PostAsync("/connect/revoke", ClientKeys.Fields(keys.Assertion(client.ClientId, server.Time.GetUtcNow())),
            new() { ["token"] = accessToken });
        Assert.Equal(HttpStatusCode.OK, revoked);

        // RFC 9126 §2: the PAR endpoint's own URL is an accepted audience.
        var (_, challenge) = TestData.NewPkce();
        var (pushed, par) = await PostAsync("/connect/par",
            ClientKeys.Fields(keys.Assertion(client.ClientId, server.Time.GetUtcNow(), ServerFactory.Issuer + "/connect/par")),
            new()
            {
                ["response_type"] = "code",
                ["redirect_uri"] = client.RedirectUri,
                ["scope"] = "openid",
                ["code_challenge"] = challenge,
                ["code_challenge_method"] = "S256",
            });
        Assert.Equal(HttpStatusCode.Created, pushed);
        Assert.StartsWith("urn:ietf:params:oauth:request_uri:", par.GetProperty("request_uri").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_at_a_jwks_uri_are_fetched_and_fetched_again_for_a_new_kid()
    {
        var first = ClientKeys.EcP256();
        await using var jwksServer = await JwksServer.StartAsync(first.Jwks);
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [],
            settings: new ClientSettings { TokenEndpointAuthMethod = ClientAuthenticationMethods.PrivateKeyJwt, JwksUri = jwksServer.Uri });

        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(first.Assertion(client.ClientId, server.Time.GetUtcNow()))).Status);
        Assert.Equal(1, jwksServer.Requests);
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(first.Assertion(client.ClientId, server.Time.GetUtcNow()))).Status);
        Assert.Equal(1, jwksServer.Requests); // cached

        // The client rotates its key: an unknown kid fetches the set again, but not more often than the refresh interval.
        var second = ClientKeys.Rsa();
        jwksServer.Jwks = second.Jwks;
        AssertInvalidClient(await ClientCredentialsAsync(second.Assertion(client.ClientId, server.Time.GetUtcNow())), "kid");
        Assert.Equal(1, jwksServer.Requests);
        server.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(second.Assertion(client.ClientId, server.Time.GetUtcNow()))).Status);
        Assert.Equal(2, jwksServer.Requests);
    }

    [Fact]
    public async Task Discovery_lists_private_key_jwt_and_its_algorithms()
    {
        using var http = server.CreateClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative)));
        var root = discovery.RootElement;
        Assert.Contains("private_key_jwt", Strings(root, "token_endpoint_auth_methods_supported"));
        Assert.Contains("private_key_jwt", Strings(root, "introspection_endpoint_auth_methods_supported"));
        Assert.Equal(["ES256", "PS256", "RS256"], Strings(root, "token_endpoint_auth_signing_alg_values_supported").Order(StringComparer.Ordinal));
    }

    private static List<string> Strings(JsonElement root, string name) => [.. root.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

    private Task<TestClient> KeyClientAsync(ClientKeys keys) =>
        TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [], settings: keys.InlineSettings());

    private Task<(HttpStatusCode Status, JsonElement Body)> ClientCredentialsAsync(string assertion) =>
        PostAsync("/connect/token", ClientKeys.Fields(assertion), new() { ["grant_type"] = "client_credentials" });

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, Dictionary<string, string> credentials, Dictionary<string, string> form)
    {
        using var http = server.CreateClient();
        foreach (var (name, value) in credentials)
        {
            form[name] = value;
        }

        using var response = await http.PostAsync(new Uri(path, UriKind.Relative), new FormUrlEncodedContent(form));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static void AssertInvalidClient((HttpStatusCode Status, JsonElement Body) result, string reason) =>
        AssertInvalidClient(result.Status, result.Body, reason);

    private static void AssertInvalidClient(HttpStatusCode status, JsonElement body, string reason)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());
        Assert.Contains(reason, body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A client's JWKS endpoint on a loopback port; counts its requests.</summary>
    private sealed class JwksServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private JwksServer(WebApplication app, string jwks)
        {
            _app = app;
            Jwks = jwks;
        }

        public string Jwks { get; set; }
        public string Uri { get; private set; } = "";
        public int Requests => Volatile.Read(ref _requests);

        public static async Task<JwksServer> StartAsync(string jwks)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var server = new JwksServer(builder.Build(), jwks);
            server._app.MapGet("/jwks", () =>
            {
                Interlocked.Increment(ref server._requests);
                return Results.Text(server.Jwks, "application/json");
            });
            await server._app.StartAsync();
            server.Uri = server._app.Urls.First() + "/jwks";
            return server;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
