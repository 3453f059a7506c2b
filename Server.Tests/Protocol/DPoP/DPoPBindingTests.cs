using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Protocol.DPoP.DPoPRequests;

namespace IdentityServer.Tests.Protocol.DPoP;

/// <summary>
/// What a DPoP key binds (RFC 9449): the access token (§6), a public client's refresh token (§5), a code requested with
/// dpop_jkt (§10); and how userinfo (§7) and introspection (§6.2) treat a bound token.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class DPoPBindingTests(SqliteServer server)
{
    [Fact]
    public async Task A_public_clients_refresh_token_is_bound_to_its_key()
    {
        var client = await TestData.CreateClientAsync(server, confidential: false);
        using var key = DPoPClientKey.Ec();
        using var other = DPoPClientKey.Ec();
        var (http, tokens) = await CodeFlowAsync(client, TokenProof(server, key));
        using var _ = http;
        Assert.Equal("DPoP", tokens.GetProperty("token_type").GetString());
        var refreshToken = tokens.GetProperty("refresh_token").GetString()!;

        // §5: the refresh token works only with a proof of the same key; the refusals do not spend it.
        AssertError(HttpStatusCode.BadRequest, "invalid_grant", await RefreshAsync(http, client, refreshToken, proof: null));
        AssertError(HttpStatusCode.BadRequest, "invalid_grant", await RefreshAsync(http, client, refreshToken, TokenProof(server, other)));
        var (status, refreshed, _) = await RefreshAsync(http, client, refreshToken, TokenProof(server, key));
        Assert.True(status == HttpStatusCode.OK, refreshed.ToString());
        Assert.Equal("DPoP", refreshed.GetProperty("token_type").GetString());
        Assert.Equal(key.Thumbprint, ConfirmationKey(refreshed.GetProperty("access_token").GetString()!));

        // The rotated successor keeps the binding.
        var successor = refreshed.GetProperty("refresh_token").GetString()!;
        AssertError(HttpStatusCode.BadRequest, "invalid_grant", await RefreshAsync(http, client, successor, TokenProof(server, other)));
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(http, client, successor, TokenProof(server, key))).Status);
    }

    [Fact]
    public async Task A_public_clients_unbound_refresh_token_gets_a_bound_successor_when_it_sends_a_proof()
    {
        var client = await TestData.CreateClientAsync(server, confidential: false);
        using var key = DPoPClientKey.Ec();
        using var other = DPoPClientKey.Ec();
        var (http, tokens) = await CodeFlowAsync(client, proof: null);
        using var _ = http;
        Assert.Equal("Bearer", tokens.GetProperty("token_type").GetString());

        // §5: a refresh token issued to a public client that presents a proof is bound to that proof's key.
        var (status, refreshed, _) = await RefreshAsync(http, client, tokens.GetProperty("refresh_token").GetString()!, TokenProof(server, key));
        Assert.Equal(HttpStatusCode.OK, status);
        var successor = refreshed.GetProperty("refresh_token").GetString()!;
        AssertError(HttpStatusCode.BadRequest, "invalid_grant", await RefreshAsync(http, client, successor, proof: null));
        AssertError(HttpStatusCode.BadRequest, "invalid_grant", await RefreshAsync(http, client, successor, TokenProof(server, other)));
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(http, client, successor, TokenProof(server, key))).Status);
    }

    [Fact]
    public async Task A_confidential_clients_refresh_token_is_not_bound_but_each_access_token_follows_its_proof()
    {
        var client = await TestData.CreateClientAsync(server);
        using var key = DPoPClientKey.Ec();
        using var other = DPoPClientKey.Ec();
        var (http, tokens) = await CodeFlowAsync(client, TokenProof(server, key));
        using var _ = http;
        Assert.Equal(key.Thumbprint, ConfirmationKey(tokens.GetProperty("access_token").GetString()!));

        // §5: the client authenticates, so its refresh token needs no key; the new access token is bound to this proof's key.
        var (status, refreshed, _) = await RefreshAsync(http, client, tokens.GetProperty("refresh_token").GetString()!, TokenProof(server, other));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(other.Thumbprint, ConfirmationKey(refreshed.GetProperty("access_token").GetString()!));
        var (plainStatus, plain, _) = await RefreshAsync(http, client, refreshed.GetProperty("refresh_token").GetString()!, proof: null);
        Assert.Equal(HttpStatusCode.OK, plainStatus);
        Assert.Equal("Bearer", plain.GetProperty("token_type").GetString());
        Assert.Null(ConfirmationKey(plain.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task A_code_requested_with_dpop_jkt_is_redeemed_only_with_that_key()
    {
        var client = await TestData.CreateClientAsync(server, confidential: false);
        using var key = DPoPClientKey.Ec();
        using var other = DPoPClientKey.Ec();
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, extra: ("dpop_jkt", key.Thumbprint)))["code"];

        // §10: without a proof, or with another key, the code is refused (and stays unspent).
        AssertError(HttpStatusCode.BadRequest, "invalid_grant", await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier));
        AssertError(HttpStatusCode.BadRequest, "invalid_grant", await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier, TokenProof(server, other)));
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier, TokenProof(server, key));
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal(key.Thumbprint, ConfirmationKey(body.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task A_malformed_dpop_jkt_is_an_invalid_request_sent_back_to_the_client()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (_, challenge) = TestData.NewPkce();

        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, extra: ("dpop_jkt", "not a thumbprint"));

        Assert.Equal("invalid_request", callback["error"]);
        Assert.False(callback.ContainsKey("code"));
    }

    [Fact]
    public async Task Userinfo_takes_a_bound_token_with_the_DPoP_scheme_and_a_proof_of_its_key()
    {
        var client = await TestData.CreateClientAsync(server, confidential: false);
        using var key = DPoPClientKey.Ec();
        using var other = DPoPClientKey.Ec();
        var (http, tokens) = await CodeFlowAsync(client, TokenProof(server, key));
        using var _ = http;
        var accessToken = tokens.GetProperty("access_token").GetString()!;

        var (status, body, _) = await UserInfoAsync(http, "DPoP", accessToken, UserInfoProof(server, key, accessToken));
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("sub").GetString()));

        // §7.2: a bound token presented as a bearer token is refused, with a DPoP challenge.
        var asBearer = await UserInfoAsync(http, "Bearer", accessToken, proof: null);
        AssertError(HttpStatusCode.Unauthorized, "invalid_token", asBearer);
        Assert.Contains("error=\"invalid_token\"", DPoPChallenge(asBearer.Response), StringComparison.Ordinal);

        // §4.3 check 12: ath must be the hash of this token.
        var wrongAth = await UserInfoAsync(http, "DPoP", accessToken, UserInfoProof(server, key, accessToken + "x"));
        AssertError(HttpStatusCode.Unauthorized, "invalid_dpop_proof", wrongAth);
        Assert.Contains("error=\"invalid_dpop_proof\"", DPoPChallenge(wrongAth.Response), StringComparison.Ordinal);
        Assert.Contains("algs=\"", DPoPChallenge(wrongAth.Response), StringComparison.Ordinal);

        // No ath at all, or a proof made for the token endpoint, or by another key.
        var noAth = key.Proof("GET", UserInfoUrl, issuedAt: server.Time.GetUtcNow());
        AssertError(HttpStatusCode.Unauthorized, "invalid_dpop_proof", await UserInfoAsync(http, "DPoP", accessToken, noAth));
        AssertError(HttpStatusCode.Unauthorized, "invalid_dpop_proof", await UserInfoAsync(http, "DPoP", accessToken, TokenProof(server, key)));
        AssertError(HttpStatusCode.Unauthorized, "invalid_token", await UserInfoAsync(http, "DPoP", accessToken, UserInfoProof(server, other, accessToken)));
        AssertError(HttpStatusCode.Unauthorized, "invalid_dpop_proof", await UserInfoAsync(http, "DPoP", accessToken, proof: null));
    }

    [Fact]
    public async Task Userinfo_refuses_a_bearer_token_sent_with_the_DPoP_scheme()
    {
        var client = await TestData.CreateClientAsync(server, confidential: false);
        using var key = DPoPClientKey.Ec();
        var (http, tokens) = await CodeFlowAsync(client, proof: null);
        using var _ = http;
        var accessToken = tokens.GetProperty("access_token").GetString()!;

        Assert.Equal(HttpStatusCode.OK, (await UserInfoAsync(http, "Bearer", accessToken, proof: null)).Status);
        var result = await UserInfoAsync(http, "DPoP", accessToken, UserInfoProof(server, key, accessToken));

        AssertError(HttpStatusCode.Unauthorized, "invalid_token", result);
    }

    [Fact]
    public async Task Without_a_token_userinfo_challenges_for_both_schemes()
    {
        using var http = server.CreateClient();

        var response = await http.GetAsync("/connect/userinfo");

        // RFC 6750 §3.1 and RFC 9449 §7.1: no error code, a challenge per scheme, DPoP's with its algorithms.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, c => c.Scheme == "Bearer" && !(c.Parameter ?? "").Contains("error=", StringComparison.Ordinal));
        var dpop = DPoPChallenge(response);
        Assert.Contains("ES256", dpop, StringComparison.Ordinal);
        Assert.DoesNotContain("error=", dpop, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Introspection_reports_the_key_a_token_is_bound_to()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [], canIntrospect: true);
        using var key = DPoPClientKey.Ec();
        using var http = server.CreateClient();
        var bound = (await ClientCredentialsAsync(http, client, TokenProof(server, key))).Body.GetProperty("access_token").GetString()!;
        var plain = (await ClientCredentialsAsync(http, client, proof: null)).Body.GetProperty("access_token").GetString()!;

        var boundResult = await IntrospectAsync(http, client, bound);
        var plainResult = await IntrospectAsync(http, client, plain);

        // RFC 9449 §6.2: cnf.jkt, and token_type DPoP.
        Assert.True(boundResult.GetProperty("active").GetBoolean());
        Assert.Equal(key.Thumbprint, boundResult.GetProperty("cnf").GetProperty("jkt").GetString());
        Assert.Equal("DPoP", boundResult.GetProperty("token_type").GetString());
        Assert.True(plainResult.GetProperty("active").GetBoolean());
        Assert.False(plainResult.TryGetProperty("cnf", out _));
        Assert.Equal("Bearer", plainResult.GetProperty("token_type").GetString());
    }

    private static async Task<JsonElement> IntrospectAsync(HttpClient http, TestClient caller, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/introspect")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(caller.ClientId + ":" + caller.Secret)));
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Signs a new user in through the code flow and redeems the code with <paramref name="proof"/>.</summary>
    private async Task<(HttpClient Http, JsonElement Tokens)> CodeFlowAsync(TestClient client, string? proof)
    {
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge))["code"];
        var http = server.CreateClient();
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(http, client, code, verifier, proof);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        return (http, body);
    }
}
