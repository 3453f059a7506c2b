using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Security;

/// <summary>
/// Forged and tampered JWTs, made from a real token of the server: the classic attacks on JWT validation (alg none, an
/// RS256 key used as an HMAC secret, a foreign key behind the right or a wrong kid, a changed payload) and tokens the
/// server's real key signed but that are wrong in content (issuer, expiry, type).
/// </summary>
public static class Forge
{
    public static string AlgNone(string token) => Unsigned(Header(token, h => h["alg"] = "none"), Payload(token)) + ".";

    public static string AlgNoneWithoutSignatureSegment(string token) => Unsigned(Header(token, h => h["alg"] = "none"), Payload(token));

    /// <summary>"alg":"HS256" with the server's public key (its SubjectPublicKeyInfo PEM) as the HMAC secret.</summary>
    public static string Hs256WithPublicKey(ServerFactory server, string token)
    {
        var key = (RsaSecurityKey)server.Services.GetRequiredService<SigningKeyRing>().Active.Key;
        var pem = (key.Rsa ?? RSA.Create(key.Parameters)).ExportSubjectPublicKeyInfoPem();
        var unsigned = Unsigned(Header(token, h => h["alg"] = "HS256"), Payload(token));
        return unsigned + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(Encoding.ASCII.GetBytes(pem), Encoding.ASCII.GetBytes(unsigned)));
    }

    /// <summary>Signed by a key the server never published, claiming the server's own kid.</summary>
    public static string ForeignKeySameKid(string token) => SignWithForeignKey(Header(token, _ => { }), Payload(token));

    /// <summary>Signed by a key the server never published, under a kid it does not know.</summary>
    public static string ForeignKeyUnknownKid(string token) => SignWithForeignKey(Header(token, h => h["kid"] = "attacker-key"), Payload(token));

    /// <summary>The real signature over a payload that was changed afterwards.</summary>
    public static string TamperedPayload(string token, string claim, JsonNode value)
    {
        var parts = token.Split('.');
        return parts[0] + "." + Encode(Payload(token, p => p[claim] = value)) + "." + parts[2];
    }

    /// <summary>Signed with the server's real key, but with content it must refuse.</summary>
    public static string SignedByServer(ServerFactory server, string token, Action<JsonObject> changePayload, Action<JsonObject>? changeHeader = null)
    {
        var key = server.Services.GetRequiredService<SigningKeyRing>().Active;
        var header = Header(token, changeHeader ?? (_ => { }));
        var unsigned = Unsigned(header, Payload(token, changePayload));
        var provider = key.Credentials.CryptoProviderFactory.CreateForSigning(key.Key, key.Algorithm);
        try
        {
            return unsigned + "." + Base64UrlEncoder.Encode(provider.Sign(Encoding.ASCII.GetBytes(unsigned)));
        }
        finally
        {
            key.Credentials.CryptoProviderFactory.ReleaseSignatureProvider(provider);
        }
    }

    public static long Now(ServerFactory server) => server.Time.GetUtcNow().ToUnixTimeSeconds();

    private static string SignWithForeignKey(JsonObject header, JsonObject payload)
    {
        using var rsa = RSA.Create(2048);
        header["alg"] = "RS256";
        var unsigned = Unsigned(header, payload);
        return unsigned + "." + Base64UrlEncoder.Encode(rsa.SignData(Encoding.ASCII.GetBytes(unsigned), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    private static string Unsigned(JsonObject header, JsonObject payload) => Encode(header) + "." + Encode(payload);

    private static string Encode(JsonObject json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json.ToJsonString()));

    private static JsonObject Header(string token, Action<JsonObject> change)
    {
        var header = Decode(token.Split('.')[0]);
        change(header);
        return header;
    }

    private static JsonObject Payload(string token, Action<JsonObject>? change = null)
    {
        var payload = Decode(token.Split('.')[1]);
        change?.Invoke(payload);
        return payload;
    }

    private static JsonObject Decode(string segment) =>
        JsonNode.Parse(Base64UrlEncoder.Decode(segment), documentOptions: new JsonDocumentOptions())!.AsObject();
}
