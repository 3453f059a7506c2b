using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Clients;

/// <summary>The client authentication methods a client may register (RFC 7591 §2 token_endpoint_auth_method).</summary>
public static class ClientAuthenticationMethods
{
    public const string SecretBasic = "client_secret_basic";
    public const string SecretPost = "client_secret_post";
    public const string PrivateKeyJwt = "private_key_jwt";
    public const string None = "none";

    /// <summary>What a client's settings may name; a public client's "none" follows from its type.</summary>
    public static IReadOnlyList<string> Registrable { get; } = [SecretBasic, SecretPost, PrivateKeyJwt];

    /// <summary>
    /// The signature algorithms accepted on client assertions: asymmetric only (RFC 7523 §3 item 9 leaves the choice to
    /// the server; "none" and HMAC would let anyone holding a shared value, or nobody at all, sign).
    /// </summary>
    public static IReadOnlyList<string> AssertionAlgorithms { get; } =
        [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256];
}

/// <summary>
/// A client's public keys (RFC 7517 §5 JWK Set), as registered inline (RFC 7591 §2 jwks) or fetched from its jwks_uri:
/// checked before storing, parsed when an assertion is verified.
/// </summary>
public static class ClientKeySet
{
    public const int MaxLength = 16 * 1024;
    private const int MaxKeys = 10;
    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

    /// <summary>What is wrong with <paramref name="json"/> as a client's JWK Set, or null.</summary>
    public static string? Problem(string json)
    {
        if (json.Length > MaxLength)
        {
            return $"the key set is longer than {MaxLength} characters.";
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return "not valid JSON.";
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
            {
                return "a JWK Set is an object with a \"keys\" array (RFC 7517 §5).";
            }

            if (keys.GetArrayLength() is 0 or > MaxKeys)
            {
                return $"the set must have between 1 and {MaxKeys} keys.";
            }

            foreach (var key in keys.EnumerateArray())
            {
                if (KeyProblem(key) is { } problem)
                {
                    return problem;
                }
            }
        }

        return Parse(json) is null ? "the keys cannot be read." : null;
    }

    /// <summary>The signing keys of a JWK Set that passed <see cref="Problem"/> (or was fetched), or null when it does not parse.</summary>
    public static IReadOnlyList<JsonWebKey>? Parse(string json)
    {
        try
        {
            var set = new JsonWebKeySet(json);
            return set.Keys.Where(k => k.Kty is JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve
                && (string.IsNullOrEmpty(k.Use) || k.Use == JsonWebKeyUseNames.Sig)
                && !k.HasPrivateKey).ToList();
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? KeyProblem(JsonElement key)
    {
        if (key.ValueKind != JsonValueKind.Object || !key.TryGetProperty("kty", out var kty) || kty.ValueKind != JsonValueKind.String)
        {
            return "every key needs a kty.";
        }

        // RFC 7517 §4: a client registers public keys only; a private member means the secret half was pasted.
        if (PrivateMembers.Any(m => key.TryGetProperty(m, out _)))
        {
            return "a key has private or symmetric members (d, k, …): register public keys only.";
        }

        var type = kty.GetString();
        if (type is not (JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve))
        {
            return "only RSA and EC keys are accepted.";
        }

        if (type == JsonWebAlgorithmsKeyTypes.EllipticCurve && (!key.TryGetProperty("crv", out var crv) || crv.GetString() != JsonWebKeyECTypes.P256))
        {
            return "EC keys must be on the P-256 curve (ES256).";
        }

        if (type == JsonWebAlgorithmsKeyTypes.RSA && key.TryGetProperty("n", out var n) && n.ValueKind == JsonValueKind.String
            && Base64UrlEncoder.DecodeBytes(n.GetString()!).Length < 256)
        {
            return "RSA keys must have at least 2048 bits.";
        }

        if (key.TryGetProperty("use", out var use) && use.GetString() != JsonWebKeyUseNames.Sig)
        {
            return "a key's use must be sig.";
        }

        if (key.TryGetProperty("alg", out var alg) && !ClientAuthenticationMethods.AssertionAlgorithms.Contains(alg.GetString()))
        {
            return $"a key's alg must be one of {string.Join(", ", ClientAuthenticationMethods.AssertionAlgorithms)}.";
        }

        return null;
    }
}
