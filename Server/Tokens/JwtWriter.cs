using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tokens;

/// <summary>
/// Writes compact JWS tokens (RFC 7515) signed with the active key. The header is serialized once per key and type;
/// the payload is written straight to UTF-8. Verification is left to stock libraries (JsonWebTokenHandler, JWKS).
/// </summary>
public sealed class JwtWriter(SigningKeyRing keys)
{
    private readonly Dictionary<string, string> _headers = new(StringComparer.Ordinal);
    private readonly Lock _headersLock = new();

    /// <summary>
    /// JSON's minimal escaping: the default encoder also escapes '+', '&amp;' and every non-ASCII letter (typ "at\u002Bjwt",
    /// a name "Zo\u00EB"), which is for JSON embedded in HTML. A JWS part is base64url and never meets HTML; RFC 9068
    /// §2.1's "at+jwt" is written as it is spelled.
    /// </summary>
    private static readonly JsonWriterOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string Sign(string type, Action<Utf8JsonWriter> writePayload)
    {
        var key = keys.Active;
        var header = EncodedHeader(key, type);

        var payload = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(payload, Json))
        {
            json.WriteStartObject();
            writePayload(json);
            json.WriteEndObject();
        }

        var signingInput = header + "." + Base64UrlEncoder.Encode(payload.WrittenSpan.ToArray());
        var signature = SignBytes(key, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64UrlEncoder.Encode(signature);
    }

    private static byte[] SignBytes(SigningKey key, byte[] data) => key.Key switch
    {
        RsaSecurityKey rsa => rsa.Rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        // JWS wants the IEEE P1363 (r || s) form, which is .NET's default for ECDsa.
        ECDsaSecurityKey ec => ec.ECDsa.SignData(data, HashFor(key.Algorithm)),
        _ => throw new InvalidOperationException("Unsupported signing key."),
    };

    private static HashAlgorithmName HashFor(string algorithm) => algorithm switch
    {
        SecurityAlgorithms.EcdsaSha384 => HashAlgorithmName.SHA384,
        SecurityAlgorithms.EcdsaSha512 => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };

    private string EncodedHeader(SigningKey key, string type)
    {
        var cacheKey = key.KeyId + "|" + type;
        lock (_headersLock)
        {
            if (_headers.TryGetValue(cacheKey, out var cached))
            {
                return cached;
            }

            var buffer = new ArrayBufferWriter<byte>(128);
            using (var json = new Utf8JsonWriter(buffer, Json))
            {
                json.WriteStartObject();
                json.WriteString("alg", key.Algorithm);
                json.WriteString("kid", key.KeyId);
                json.WriteString("typ", type);
                json.WriteEndObject();
            }

            var encoded = Base64UrlEncoder.Encode(buffer.WrittenSpan.ToArray());
            _headers[cacheKey] = encoded;
            return encoded;
        }
    }

    /// <summary>at_hash / c_hash (OpenID Connect Core §3.1.3.6): left half of the hash of the ASCII value, base64url.</summary>
    public string HalfHash(string value)
    {
        var algorithm = keys.Active.Algorithm;
        byte[] hash = algorithm switch
        {
            SecurityAlgorithms.RsaSha384 or SecurityAlgorithms.EcdsaSha384 => SHA384.HashData(Encoding.ASCII.GetBytes(value)),
            SecurityAlgorithms.RsaSha512 or SecurityAlgorithms.EcdsaSha512 => SHA512.HashData(Encoding.ASCII.GetBytes(value)),
            _ => SHA256.HashData(Encoding.ASCII.GetBytes(value)),
        };
        return Base64UrlEncoder.Encode(hash.AsSpan(0, hash.Length / 2).ToArray());
    }
}
