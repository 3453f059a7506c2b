using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tokens;

/// <summary>
/// Opaque values (codes, refresh tokens): 256 random bits, base64url. Only their SHA-256 is stored, so a stolen row
/// is not a usable token; lookup is by hash, an exact index match, which compares nothing secret in application code.
/// </summary>
public static class OpaqueToken
{
    public static (string Value, string Hash) Create()
    {
        var value = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (value, Hash(value));
    }

    public static string Hash(string value)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(value), hash);
        return Base64UrlEncoder.Encode(hash.ToArray());
    }

    /// <summary>A plausible opaque value: 43 base64url characters. Anything else is rejected before any lookup.</summary>
    public static bool IsWellFormed(string? value) =>
        value is { Length: 43 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public static string NewId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
}
