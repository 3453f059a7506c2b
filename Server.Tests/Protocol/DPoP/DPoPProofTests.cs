using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static IdentityServer.Tests.Protocol.DPoP.DPoPRequests;

namespace IdentityServer.Tests.Protocol.DPoP;

/// <summary>
/// DPoP proofs at the token endpoint (RFC 9449 §4.3, §5): every check, each broken on its own, is an invalid_dpop_proof;
/// a valid proof gets a DPoP-bound access token (cnf.jkt, token_type DPoP).
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class DPoPProofTests(SqliteServer server)
{
    [Theory]
    [InlineData("ES256")]
    [InlineData("PS256")]
    [InlineData("RS256")]
    public async Task A_valid_proof_gets_an_access_token_bound_to_its_key(string algorithm)
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = algorithm == "ES256" ? DPoPClientKey.Ec() : DPoPClientKey.Rsa(algorithm);
        using var http = server.CreateClient();

        var (status, body, response) = await ClientCredentialsAsync(http, client, TokenProof(server, key));

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        // §5.1 and §6.1: token_type DPoP, and the token's cnf.jkt is the RFC 7638 thumbprint of the proof's key.
        Assert.Equal("DPoP", body.GetProperty("token_type").GetString());
        Assert.Equal(key.Thumbprint, ConfirmationKey(body.GetProperty("access_token").GetString()!));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Without_a_proof_the_token_stays_a_bearer_token()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var http = server.CreateClient();

        var (status, body, _) = await ClientCredentialsAsync(http, client, proof: null);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Null(ConfirmationKey(body.GetProperty("access_token").GetString()!));
    }

    public static TheoryData<string> BrokenProofs =>
    [
        "typ JWT", "no typ", "alg none", "alg HS256", "alg not on the list", "private key in jwk", "no jwk", "jwk of another key",
        "jwk kty does not fit alg", "bad signature", "htm GET", "htu another endpoint", "htu another host", "iat too old",
        "iat in the future", "no jti", "no iat", "iat a string", "not a JWT", "crit header",
    ];

    [Theory]
    [MemberData(nameof(BrokenProofs))]
    public async Task A_broken_proof_is_invalid_dpop_proof(string broken)
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        using var other = DPoPClientKey.Ec();
        var now = server.Time.GetUtcNow();
        string Proof(Action<JsonObject>? header = null, Action<JsonObject>? claims = null, Func<byte[], byte[]>? sign = null, string method = "POST",
            string url = TokenUrl, DateTimeOffset? iat = null) => key.Proof(method, url, issuedAt: iat ?? now, header: header, claims: claims, sign: sign);

        var proof = broken switch
        {
            "typ JWT" => Proof(header: h => h["typ"] = "JWT"),
            "no typ" => Proof(header: h => h.Remove("typ")),
            // §4.3 check 5: none and MACs are refused, whatever the signature.
            "alg none" => Proof(header: h => h["alg"] = "none", sign: _ => []),
            "alg HS256" => Proof(header: h => h["alg"] = "HS256", sign: input => HMACSHA256.HashData(new byte[32], input)),
            "alg not on the list" => Proof(header: h => h["alg"] = "ES256K"),
            "private key in jwk" => Proof(header: h => h["jwk"] = key.PrivateJwkJson()),
            "no jwk" => Proof(header: h => h.Remove("jwk")),
            "jwk of another key" => Proof(header: h => h["jwk"] = other.JwkJson()),
            "jwk kty does not fit alg" => Proof(header: h => h["alg"] = "RS256"),
            "bad signature" => Proof(sign: other.Sign),
            "htm GET" => Proof(method: "GET"),
            "htu another endpoint" => Proof(url: ServerFactory.Issuer + "/connect/introspect"),
            "htu another host" => Proof(url: "https://elsewhere.example/connect/token"),
            "iat too old" => Proof(iat: now.AddSeconds(-61)),
            "iat in the future" => Proof(iat: now.AddSeconds(11)),
            "no jti" => Proof(claims: c => c.Remove("jti")),
            "no iat" => Proof(claims: c => c.Remove("iat")),
            "iat a string" => Proof(claims: c => c["iat"] = now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            "not a JWT" => "not-a-jwt",
            "crit header" => Proof(header: h => h["crit"] = new JsonArray("exp")),
            _ => throw new ArgumentOutOfRangeException(nameof(broken)),
        };
        using var http = server.CreateClient();

        var result = await ClientCredentialsAsync(http, client, proof);

        AssertError(HttpStatusCode.BadRequest, "invalid_dpop_proof", result);
    }

    [Fact]
    public async Task Two_DPoP_headers_are_refused()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = client.ClientId,
                ["client_secret"] = client.Secret!,
            }),
        };
        request.Headers.Add("DPoP", [TokenProof(server, key), TokenProof(server, key)]);

        var response = await http.SendAsync(request);

        // §4.3 check 1: exactly one DPoP header.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_dpop_proof", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_htu_is_compared_after_normalization_and_without_query_or_fragment()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();

        // §4.3 check 9: scheme and host case, the default port, query and fragment do not matter.
        var proof = key.Proof("POST", "HTTPS://ID.Test.Example:443/connect/token?x=1#f", issuedAt: server.Time.GetUtcNow());
        var (status, body, _) = await ClientCredentialsAsync(http, client, proof);

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("DPoP", body.GetProperty("token_type").GetString());
    }

    [Fact]
    public async Task A_replayed_proof_is_refused_and_its_jti_is_kept_only_for_the_window()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();
        var proof = TokenProof(server, key);

        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(http, client, proof)).Status);
        var replay = await ClientCredentialsAsync(http, client, proof);

        // §11.1: the same jti with the same key is accepted once.
        AssertError(HttpStatusCode.BadRequest, "invalid_dpop_proof", replay);
        Assert.Contains("already used", replay.Body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        // Remembered in the database (so every instance refuses it) until the proof is stale anyway, then pruned.
        var expiries = await server.WithDatabaseAsync(db => db.Set<DPoPProofJti>().Select(p => p.ExpirationDate).ToListAsync());
        Assert.Contains(expiries, e => e > server.Time.GetUtcNow().UtcDateTime && e <= server.Time.GetUtcNow().UtcDateTime.AddSeconds(71));
    }

    [Fact]
    public async Task The_same_proof_racing_on_many_requests_wins_once()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        var proof = TokenProof(server, key);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var http = server.CreateClient();
            return (await ClientCredentialsAsync(http, client, proof)).Status;
        }));

        Assert.Single(results, s => s == HttpStatusCode.OK);
        Assert.All(results.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.BadRequest, s));
    }

    [Fact]
    public async Task A_client_that_requires_DPoP_is_refused_a_plain_token_request()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [],
            settings: new IdentityServer.Clients.ClientSettings { DpopBoundAccessTokens = true });
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();

        // RFC 9449 §5.2 dpop_bound_access_tokens: every token request must carry a proof.
        AssertError(HttpStatusCode.BadRequest, "invalid_request", await ClientCredentialsAsync(http, client, proof: null));
        var (status, body, _) = await ClientCredentialsAsync(http, client, TokenProof(server, key));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("DPoP", body.GetProperty("token_type").GetString());
    }

    [Fact]
    public async Task Discovery_advertises_the_proof_algorithms()
    {
        using var http = server.CreateClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync("/.well-known/openid-configuration"));

        var algorithms = discovery.RootElement.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Contains("ES256", algorithms);
        Assert.Contains("PS256", algorithms);
        Assert.DoesNotContain("none", algorithms);
        Assert.DoesNotContain(algorithms, a => a!.StartsWith("HS", StringComparison.Ordinal));
    }
}
