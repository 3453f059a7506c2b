using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityServer.Tokens;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Protocol.DPoP;

/// <summary>
/// Checks a DPoP proof (RFC 9449 §4.3) against the request it came with: one DPoP header holding a JWS whose typ is
/// dpop+jwt, whose alg is an asymmetric one this server accepts, whose jwk is a public key that verifies its signature;
/// htm and htu naming this request, iat within the window (or, when nonces are required, a fresh nonce of ours), ath
/// the hash of the presented access token, and a jti never seen before with this key, on any instance.
/// </summary>
public sealed class DPoPProofValidator(DPoPOptions options, DPoPNonces nonces, ProofReplayCache replays, TimeProvider time,
    ILogger<DPoPProofValidator> logger)
{
    public const string HeaderName = "DPoP";
    private const string ProofType = "dpop+jwt";
    private const int MaxProofLength = 8192;

    public async Task<DPoPCheck> ValidateAsync(StringValues header, DPoPRequirement requirement, CancellationToken cancellationToken)
    {
        // §4.3 check 1: exactly one DPoP header.
        if (header.Count != 1 || header[0] is not { Length: > 0 and <= MaxProofLength } proof)
        {
            return Refuse(header.Count > 1 ? "Send exactly one DPoP header." : "The DPoP header is empty or too long.");
        }

        // Check 2: a well-formed JWS in compact serialization.
        var parts = proof.Split('.');
        if (parts.Length != 3 || ParseObject(parts[0]) is not { } header0 || ParseObject(parts[1]) is not { } payload
            || !TryDecode(parts[2], out var signature))
        {
            return Refuse("The DPoP proof is not a signed JWT.");
        }

        using (header0)
        using (payload)
        {
            return await CheckAsync(parts, header0.RootElement, payload.RootElement, signature, requirement, cancellationToken);
        }
    }

    private async Task<DPoPCheck> CheckAsync(string[] parts, JsonElement header, JsonElement payload, byte[] signature,
        DPoPRequirement requirement, CancellationToken cancellationToken)
    {
        // Check 4: typ.
        if (Text(header, "typ") is not { } typ || !typ.Equals(ProofType, StringComparison.OrdinalIgnoreCase))
        {
            return Refuse("The DPoP proof's typ must be dpop+jwt.");
        }

        // Check 5: an asymmetric algorithm this server accepts (never none, never a MAC).
        if (Text(header, "alg") is not { } algorithm || !options.Algorithms.Contains(algorithm))
        {
            return Refuse($"The DPoP proof's alg must be one of {string.Join(", ", options.Algorithms)}.");
        }

        // RFC 7515 §4.1.11: no extension this server would have to understand.
        if (header.TryGetProperty("crit", out _))
        {
            return Refuse("The DPoP proof has a crit header this server does not understand.");
        }

        // Checks 6 and 7: the jwk is a public key, and it verifies the signature.
        if (!header.TryGetProperty("jwk", out var jwk))
        {
            return Refuse("The DPoP proof has no jwk header.");
        }

        using var key = DPoPKey.Read(jwk, algorithm, out var keyProblem);
        if (key is null)
        {
            return Refuse(keyProblem!);
        }

        if (!key.Verifies(algorithm, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature))
        {
            return Refuse("The DPoP proof's signature does not verify with its jwk.");
        }

        // Check 3: the required claims.
        if (Text(payload, "jti") is not { Length: <= 256 } jti || Text(payload, "htm") is not { } htm || Text(payload, "htu") is not { } htu
            || !payload.TryGetProperty("iat", out var iatValue) || iatValue.ValueKind != JsonValueKind.Number || !iatValue.TryGetInt64(out var iat))
        {
            return Refuse("The DPoP proof must have jti (at most 256 characters), htm, htu and a numeric iat.");
        }

        // Check 8: the method, exactly.
        if (!string.Equals(htm, requirement.Method, StringComparison.Ordinal))
        {
            return Refuse("The DPoP proof's htm does not match the request method.");
        }

        // Check 9: the URI, without query and fragment, after RFC 3986 §6.2.2 and §6.2.3 normalization.
        if (Normalize(htu) is not { } proofUri || proofUri != Normalize(requirement.Url))
        {
            return Refuse("The DPoP proof's htu does not match the request URI.");
        }

        // Check 12 (§7.1): at a resource, ath is the hash of the access token sent with it.
        if (requirement.AccessToken is { } accessToken && !AccessTokenHashMatches(Text(payload, "ath"), accessToken))
        {
            return Refuse("The DPoP proof's ath does not match the access token.");
        }

        // Checks 10 and 11: fresh, by a nonce of ours when nonces are required (§8, §9), else by its iat.
        var now = time.GetUtcNow();
        if (options.RequireNonce)
        {
            if (!nonces.IsValid(Text(payload, "nonce")))
            {
                logger.LogInformation("DPoP proof refused: nonce missing, expired or not issued here");
                return new DPoPCheck(null, DPoPErrors.UseNonce, "Use the DPoP nonce this server provided (DPoP-Nonce header).");
            }
        }
        else
        {
            var issuedAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(iat, 0, 253402300799));
            if (issuedAt < now - options.ProofLifetime || issuedAt > now + options.ClockSkew)
            {
                return Refuse("The DPoP proof's iat is outside the acceptable window.");
            }
        }

        // §11.1: a jti is used once per key. Remembered for as long as any proof could still pass the freshness check.
        var rememberUntil = now + (options.RequireNonce ? options.NonceLifetime : options.ProofLifetime) + options.ClockSkew;
        if (!await replays.TryUseAsync(key.Thumbprint, jti, rememberUntil, cancellationToken))
        {
            return Refuse("The DPoP proof was already used (its jti is not new).");
        }

        return new DPoPCheck(new DPoPProof(key.Thumbprint, jti), null, null);
    }

    /// <summary>base64url(SHA-256(ASCII(access token))), compared in constant time (§4.2 ath).</summary>
    internal static bool AccessTokenHashMatches(string? ath, string accessToken)
    {
        if (ath is null)
        {
            return false;
        }

        var expected = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(ath));
    }

    /// <summary>
    /// Scheme and host lowercased, the default port dropped, percent-encodings of unreserved characters decoded, dot
    /// segments removed, an empty path made "/" (RFC 3986 §6.2.2, §6.2.3); query and fragment are not compared (§4.3).
    /// </summary>
    internal static string? Normalize(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" && parsed.UserInfo.Length == 0
            ? parsed.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
            : null;

    private DPoPCheck Refuse(string reason)
    {
        logger.LogInformation("DPoP proof refused: {Reason}", reason);
        return DPoPCheck.Invalid(reason);
    }

    private static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static JsonDocument? ParseObject(string segment)
    {
        if (!TryDecode(segment, out var bytes))
        {
            return null;
        }

        try
        {
            var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool TryDecode(string segment, out byte[] bytes)
    {
        bytes = [];
        if (segment.Length == 0 || !segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return false;
        }

        try
        {
            bytes = Base64UrlEncoder.DecodeBytes(segment);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
