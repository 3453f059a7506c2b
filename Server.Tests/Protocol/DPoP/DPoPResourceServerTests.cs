using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static IdentityServer.Tests.Protocol.DPoP.DPoPRequests;

namespace IdentityServer.Tests.Protocol.DPoP;

/// <summary>
/// Our DPoP against a stock JWT library (Microsoft.IdentityModel): the client makes its proofs with the library's
/// JsonWebTokenHandler and the server accepts them; a resource server built on the same library verifies the access
/// token through discovery and JWKS, verifies the request's proof with the key in its jwk header, and finds the
/// token's cnf.jkt equal to the library's own RFC 7638 thumbprint of that key (RFC 9449 §7.1, §6.1).
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class DPoPResourceServerTests(SqliteServer server)
{
    private const string Resource = "https://dpop-api.example";

    [Fact]
    public async Task A_resource_server_on_a_stock_library_verifies_the_proof_and_the_token_binding()
    {
        var scope = "dpop-api-" + Guid.NewGuid().ToString("N")[..8];
        await TestData.CreateScopeAsync(server, scope, Resource);
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [scope], resources: [Resource]);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signingKey = new ECDsaSecurityKey(ec);
        var publicJwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(ec.ExportParameters(false))));
        using var http = server.CreateClient();

        // The client: a proof written by the stock library.
        var tokenProof = LibraryProof(signingKey, publicJwk, "POST", TokenUrl, accessToken: null);
        var (status, body, _) = await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials", ["scope"] = scope }, dpop: tokenProof);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("DPoP", body.GetProperty("token_type").GetString());
        var accessToken = body.GetProperty("access_token").GetString()!;

        // The resource server: the access token through discovery and JWKS.
        var access = await new TokenChecks(server).AccessTokenAsync(accessToken, Resource, client.ClientId, expectedSubject: client.ClientId);
        var jkt = access.GetPayloadValue<JsonElement>("cnf").GetProperty("jkt").GetString();

        // ... and the proof sent with it to the API.
        const string apiUrl = Resource + "/orders";
        var apiProof = LibraryProof(signingKey, publicJwk, "GET", apiUrl, accessToken);
        var proofKey = await VerifyProofAsync(apiProof, "GET", apiUrl, accessToken);
        Assert.Equal(Base64UrlEncoder.Encode(proofKey.ComputeJwkThumbprint()), jkt);

        // A proof by another key does not match the token's cnf.
        using var otherEc = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var otherJwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(otherEc.ExportParameters(false))));
        var otherKey = await VerifyProofAsync(LibraryProof(new ECDsaSecurityKey(otherEc), otherJwk, "GET", apiUrl, accessToken), "GET", apiUrl, accessToken);
        Assert.NotEqual(Base64UrlEncoder.Encode(otherKey.ComputeJwkThumbprint()), jkt);
    }

    /// <summary>A DPoP proof made with JsonWebTokenHandler: typ dpop+jwt and the public jwk in the header.</summary>
    private string LibraryProof(SecurityKey signingKey, JsonWebKey publicJwk, string method, string url, string? accessToken)
    {
        var claims = new Dictionary<string, object>
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["htm"] = method,
            ["htu"] = url,
            ["iat"] = server.Time.GetUtcNow().ToUnixTimeSeconds(),
        };
        if (accessToken is not null)
        {
            claims["ath"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "dpop+jwt",
            Claims = claims,
            SigningCredentials = new SigningCredentials(signingKey, SecurityAlgorithms.EcdsaSha256),
            AdditionalHeaderClaims = new Dictionary<string, object>
            {
                ["jwk"] = new Dictionary<string, object> { ["kty"] = publicJwk.Kty, ["crv"] = publicJwk.Crv, ["x"] = publicJwk.X, ["y"] = publicJwk.Y },
            },
        });
    }

    /// <summary>The resource server's check of a proof (RFC 9449 §4.3, §7.1) with the stock handler; returns the proof's key.</summary>
    private async Task<JsonWebKey> VerifyProofAsync(string proof, string method, string url, string accessToken)
    {
        var unverified = new JsonWebToken(proof);
        var jwk = new JsonWebKey(unverified.GetHeaderValue<JsonElement>("jwk").GetRawText());
        Assert.False(jwk.HasPrivateKey);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(proof, new TokenValidationParameters
        {
            IssuerSigningKey = jwk,
            ValidTypes = ["dpop+jwt"],
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal(method, jwt.GetPayloadValue<string>("htm"));
        Assert.Equal(url, jwt.GetPayloadValue<string>("htu"));
        Assert.Equal(Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken))), jwt.GetPayloadValue<string>("ath"));
        Assert.InRange(jwt.GetPayloadValue<long>("iat"), server.Time.GetUtcNow().AddSeconds(-60).ToUnixTimeSeconds(), server.Time.GetUtcNow().ToUnixTimeSeconds());
        return jwk;
    }
}
