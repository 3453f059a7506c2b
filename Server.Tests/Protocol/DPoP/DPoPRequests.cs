using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Protocol.DPoP;

/// <summary>What the DPoP tests share: the endpoint URLs a proof names, proofs dated by the server's clock, calls with proofs.</summary>
internal static class DPoPRequests
{
    public const string TokenUrl = ServerFactory.Issuer + "/connect/token";
    public const string UserInfoUrl = ServerFactory.Issuer + "/connect/userinfo";

    /// <summary>A proof for the token endpoint, dated by the server's (fake) clock.</summary>
    public static string TokenProof(ServerFactory server, DPoPClientKey key, string? nonce = null) =>
        key.Proof("POST", TokenUrl, nonce: nonce, issuedAt: server.Time.GetUtcNow());

    /// <summary>A proof for userinfo with the access token's ath.</summary>
    public static string UserInfoProof(ServerFactory server, DPoPClientKey key, string accessToken, string method = "GET", string? nonce = null) =>
        key.Proof(method, UserInfoUrl, accessToken, nonce, server.Time.GetUtcNow());

    public static Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> ClientCredentialsAsync(
        HttpClient http, TestClient client, string? proof) =>
        OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials" }, dpop: proof);

    public static Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> RefreshAsync(
        HttpClient http, TestClient client, string refreshToken, string? proof) =>
        OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken }, dpop: proof);

    /// <summary>userinfo with "Authorization: {scheme} {token}" and, when given, a DPoP header.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> UserInfoAsync(
        HttpClient http, string scheme, string accessToken, string? proof)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, accessToken);
        if (proof is not null)
        {
            request.Headers.Add("DPoP", proof);
        }

        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    /// <summary>The cnf.jkt of an access token, or null.</summary>
    public static string? ConfirmationKey(string accessToken)
    {
        var jwt = new JsonWebToken(accessToken);
        return jwt.TryGetPayloadValue<JsonElement>("cnf", out var cnf) ? cnf.GetProperty("jkt").GetString() : null;
    }

    /// <summary>The one WWW-Authenticate challenge of the DPoP scheme.</summary>
    public static string DPoPChallenge(HttpResponseMessage response) =>
        Assert.Single(response.Headers.WwwAuthenticate, c => c.Scheme == "DPoP").Parameter ?? "";

    public static void AssertError(HttpStatusCode expectedStatus, string expectedError,
        (HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response) result)
    {
        Assert.True(result.Status == expectedStatus, $"Expected {(int)expectedStatus}, got {(int)result.Status}: {result.Body}");
        Assert.Equal(expectedError, result.Body.GetProperty("error").GetString());
    }
}
