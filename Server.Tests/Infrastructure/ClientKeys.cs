using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Clients;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// A private_key_jwt client's key pair, as the client holds it: its public JWK Set to register, and client assertions
/// (RFC 7523 §2.2) signed with the stock JsonWebTokenHandler.
/// </summary>
public sealed class ClientKeys
{
    private ClientKeys(SecurityKey key, string algorithm, string publicJwk, string? privateJwk = null)
    {
        Key = key;
        Algorithm = algorithm;
        PublicJwk = publicJwk;
        PrivateJwk = privateJwk;
    }

    /// <summary>The private key as a JWK, for a client library that signs its own assertions (EC keys only).</summary>
    public string? PrivateJwk { get; }

    public SecurityKey Key { get; }
    public string Algorithm { get; }
    public string KeyId => Key.KeyId;

    /// <summary>The public key alone, as one JWK's JSON.</summary>
    public string PublicJwk { get; }

    /// <summary>The JWK Set to register (inline jwks or served at a jwks_uri).</summary>
    public string Jwks => $"{{\"keys\":[{PublicJwk}]}}";

    public static ClientKeys Rsa(string algorithm = SecurityAlgorithms.RsaSha256)
    {
        var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa) { KeyId = "rsa-" + Guid.NewGuid().ToString("N")[..8] };
        var parameters = rsa.ExportParameters(false);
        var jwk = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "RSA",
            ["kid"] = key.KeyId,
            ["use"] = "sig",
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        });
        return new ClientKeys(key, algorithm, jwk);
    }

    public static ClientKeys EcP256()
    {
        var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = new ECDsaSecurityKey(ec) { KeyId = "ec-" + Guid.NewGuid().ToString("N")[..8] };
        var parameters = ec.ExportParameters(true);
        var members = new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["kid"] = key.KeyId,
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
        };
        var publicJwk = JsonSerializer.Serialize(members);
        members["d"] = Base64UrlEncoder.Encode(parameters.D);
        return new ClientKeys(key, SecurityAlgorithms.EcdsaSha256, publicJwk, JsonSerializer.Serialize(members));
    }

    /// <summary>The settings of a client that authenticates with these keys, registered inline.</summary>
    public ClientSettings InlineSettings() => new() { TokenEndpointAuthMethod = ClientAuthenticationMethods.PrivateKeyJwt, Jwks = Jwks };

    /// <summary>
    /// A client assertion: iss = sub = <paramref name="clientId"/>, aud the issuer unless given, a fresh jti, one minute
    /// of life from <paramref name="now"/>. <paramref name="change"/> edits the claims to break one rule.
    /// </summary>
    public string Assertion(string clientId, DateTimeOffset now, object? audience = null, Action<Dictionary<string, object>>? change = null,
        SigningCredentials? credentials = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = clientId,
            ["sub"] = clientId,
            ["aud"] = audience ?? ServerFactory.Issuer,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(1).ToUnixTimeSeconds(),
        };
        change?.Invoke(claims);
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = credentials ?? new SigningCredentials(Key, Algorithm),
        });
    }

    /// <summary>The form fields of RFC 7523 §2.2.</summary>
    public static Dictionary<string, string> Fields(string assertion) => new()
    {
        ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ["client_assertion"] = assertion,
    };
}
