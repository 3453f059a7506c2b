using System.Net;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Protocol.DPoP.DPoPRequests;

namespace IdentityServer.Tests.Protocol.DPoP;

/// <summary>A server that requires DPoP nonces (DPoP:RequireNonce).</summary>
public sealed class DPoPNonceServer : ServerFactory
{
    public DPoPNonceServer()
    {
    }

    private DPoPNonceServer(string dataDirectory)
        : base(dataDirectory)
    {
    }

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["DPoP:RequireNonce"] = "true" };

    protected override bool OwnsDataDirectory => !IsSecondInstance;

    private bool IsSecondInstance { get; init; }

    /// <summary>Another instance on the same database and Data Protection keys.</summary>
    public DPoPNonceServer SecondInstance() => new(DataDirectory) { IsSecondInstance = true };
}

/// <summary>
/// Server-provided nonces (RFC 9449 §8 at the token endpoint, §9 at userinfo): a proof without one, or with a stale or
/// foreign one, is answered use_dpop_nonce with a fresh nonce in DPoP-Nonce; a nonce works on every instance.
/// </summary>
public sealed class DPoPNonceTests(DPoPNonceServer server) : IClassFixture<DPoPNonceServer>
{
    [Fact]
    public async Task The_token_endpoint_asks_for_a_nonce_then_accepts_the_proof_that_carries_it()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();

        var first = await ClientCredentialsAsync(http, client, TokenProof(server, key));
        AssertError(HttpStatusCode.BadRequest, "use_dpop_nonce", first);
        var nonce = Assert.Single(first.Response.Headers.GetValues("DPoP-Nonce"));

        var (status, body, response) = await ClientCredentialsAsync(http, client, TokenProof(server, key, nonce));
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("DPoP", body.GetProperty("token_type").GetString());
        // §8.2: a fresh nonce with the answer, for the next request.
        Assert.Single(response.Headers.GetValues("DPoP-Nonce"));
    }

    [Fact]
    public async Task A_stale_or_forged_nonce_is_answered_with_a_fresh_one()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();
        var nonce = (await ClientCredentialsAsync(http, client, TokenProof(server, key))).Response.Headers.GetValues("DPoP-Nonce").Single();

        AssertError(HttpStatusCode.BadRequest, "use_dpop_nonce", await ClientCredentialsAsync(http, client, TokenProof(server, key, nonce + "x")));
        AssertError(HttpStatusCode.BadRequest, "use_dpop_nonce", await ClientCredentialsAsync(http, client, TokenProof(server, key, "made-up-nonce")));
        server.Time.Advance(TimeSpan.FromMinutes(6));
        var stale = await ClientCredentialsAsync(http, client, TokenProof(server, key, nonce));
        AssertError(HttpStatusCode.BadRequest, "use_dpop_nonce", stale);

        var fresh = stale.Response.Headers.GetValues("DPoP-Nonce").Single();
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(http, client, TokenProof(server, key, fresh))).Status);
    }

    [Fact]
    public async Task With_a_nonce_the_clients_own_clock_does_not_matter()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();
        var nonce = (await ClientCredentialsAsync(http, client, TokenProof(server, key))).Response.Headers.GetValues("DPoP-Nonce").Single();

        // §4.3 check 11: the server's timestamp in the nonce decides freshness, not the client's iat (here 20 minutes off).
        var proof = key.Proof("POST", TokenUrl, nonce: nonce, issuedAt: server.Time.GetUtcNow().AddMinutes(-20));
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(http, client, proof)).Status);
    }

    [Fact]
    public async Task A_nonce_from_one_instance_works_on_another_and_a_proof_replayed_there_is_refused()
    {
        using var second = server.SecondInstance();
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();
        using var otherHttp = second.CreateClient();
        var nonce = (await ClientCredentialsAsync(http, client, TokenProof(server, key))).Response.Headers.GetValues("DPoP-Nonce").Single();
        var proof = TokenProof(server, key, nonce);

        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsAsync(otherHttp, client, proof)).Status);
        // §11.1: the jti cache is the shared database, so the first instance refuses the proof the second accepted.
        AssertError(HttpStatusCode.BadRequest, "invalid_dpop_proof", await ClientCredentialsAsync(http, client, proof));
    }

    [Fact]
    public async Task Userinfo_asks_for_a_nonce_with_a_DPoP_challenge()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();
        var nonce = (await ClientCredentialsAsync(http, client, TokenProof(server, key))).Response.Headers.GetValues("DPoP-Nonce").Single();
        var accessToken = (await ClientCredentialsAsync(http, client, TokenProof(server, key, nonce))).Body.GetProperty("access_token").GetString()!;

        var result = await UserInfoAsync(http, "DPoP", accessToken, UserInfoProof(server, key, accessToken));

        // §9: 401 with WWW-Authenticate DPoP error="use_dpop_nonce" and the nonce to use.
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Contains("error=\"use_dpop_nonce\"", DPoPChallenge(result.Response), StringComparison.Ordinal);
        var resourceNonce = result.Response.Headers.GetValues("DPoP-Nonce").Single();
        // With the nonce the proof passes; this client-credentials token has no openid scope, so userinfo then says so.
        var retry = await UserInfoAsync(http, "DPoP", accessToken, UserInfoProof(server, key, accessToken, nonce: resourceNonce));
        AssertError(HttpStatusCode.Forbidden, "insufficient_scope", retry);
    }
}
