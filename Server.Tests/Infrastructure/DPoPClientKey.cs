using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// A DPoP client's key pair (RFC 9449 §4), making proofs by hand so that tests can bend any part of one: header, claims,
/// signature. The thumbprint comes from Microsoft.IdentityModel's RFC 7638 implementation, not from the server's code.
/// </summary>
public sealed class DPoPClientKey : IDisposable
{
    private readonly AsymmetricAlgorithm _key;

    private DPoPClientKey(AsymmetricAlgorithm key, string algorithm)
    {
        _key = key;
        Algorithm = algorithm;
    }

    public string Algorithm { get; }

    public static DPoPClientKey Ec() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), "ES256");

    public static DPoPClientKey Rsa(string algorithm = "PS256") => new(RSA.Create(2048), algorithm);

    /// <summary>The public JWK, as a stock library writes it.</summary>
    public JsonWebKey PublicJwk => _key switch
    {
        ECDsa ec => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(ec.ExportParameters(false)))),
        RSA rsa => JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false))),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>RFC 7638 thumbprint (SHA-256, base64url) by Microsoft.IdentityModel.</summary>
    public string Thumbprint => Base64UrlEncoder.Encode(PublicJwk.ComputeJwkThumbprint());

    /// <summary>The public key's JWK members only (kty and the key's numbers).</summary>
    public JsonObject JwkJson()
    {
        var jwk = PublicJwk;
        return jwk.Kty == "EC"
            ? new JsonObject { ["kty"] = "EC", ["crv"] = jwk.Crv, ["x"] = jwk.X, ["y"] = jwk.Y }
            : new JsonObject { ["kty"] = "RSA", ["n"] = jwk.N, ["e"] = jwk.E };
    }

    /// <summary>The private members too: a jwk header that must be refused (RFC 9449 §4.3 check 7).</summary>
    public JsonObject PrivateJwkJson()
    {
        var jwk = JwkJson();
        if (_key is ECDsa ec)
        {
            jwk["d"] = Base64UrlEncoder.Encode(ec.ExportParameters(true).D);
        }
        else if (_key is RSA rsa)
        {
            jwk["d"] = Base64UrlEncoder.Encode(rsa.ExportParameters(true).D);
        }

        return jwk;
    }

    /// <summary>
    /// A proof for <paramref name="method"/> <paramref name="url"/> (and <paramref name="accessToken"/>'s ath), signed by
    /// this key; <paramref name="header"/> and <paramref name="claims"/> may change anything before signing.
    /// </summary>
    public string Proof(string method, string url, string? accessToken = null, string? nonce = null, DateTimeOffset? issuedAt = null,
        Action<JsonObject>? header = null, Action<JsonObject>? claims = null, Func<byte[], byte[]>? sign = null)
    {
        var head = new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = Algorithm, ["jwk"] = JwkJson() };
        var body = new JsonObject
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["htm"] = method,
            ["htu"] = url,
            ["iat"] = (issuedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(),
        };
        if (accessToken is not null)
        {
            body["ath"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        }

        if (nonce is not null)
        {
            body["nonce"] = nonce;
        }

        header?.Invoke(head);
        claims?.Invoke(body);
        var input = Encode(head) + "." + Encode(body);
        var signature = (sign ?? Sign)(Encoding.ASCII.GetBytes(input));
        return input + "." + Base64UrlEncoder.Encode(signature);
    }

    /// <summary>Signs with this key the way <see cref="Algorithm"/> says (RFC 7518 §3.3, §3.4, §3.5).</summary>
    public byte[] Sign(byte[] input) => _key switch
    {
        ECDsa ec => ec.SignData(input, HashAlgorithmName.SHA256),
        RSA rsa => rsa.SignData(input, HashAlgorithmName.SHA256, Algorithm.StartsWith("PS", StringComparison.Ordinal) ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1),
        _ => throw new InvalidOperationException(),
    };

    private static string Encode(JsonObject json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json.ToJsonString()));

    public void Dispose() => _key.Dispose();
}
