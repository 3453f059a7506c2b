using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Protocol.DPoP;

/// <summary>
/// Server-provided DPoP nonces (RFC 9449 §8, §9): the time of issue, encrypted and authenticated with the shared Data
/// Protection keys, so any instance accepts a nonce another issued and nothing is stored. A nonce is good for
/// <see cref="DPoPOptions.NonceLifetime"/>; a client asked to use one gets it in the DPoP-Nonce header.
/// </summary>
public sealed class DPoPNonces(IDataProtectionProvider protection, DPoPOptions options, TimeProvider time)
{
    public const string HeaderName = "DPoP-Nonce";

    private readonly IDataProtector _protector = protection.CreateProtector("IdentityServer.DPoP.Nonce.v1");

    /// <summary>A fresh nonce: base64url, so within the NQCHAR set §8.1 requires.</summary>
    public string Issue()
    {
        var issuedAt = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(issuedAt, time.GetUtcNow().ToUnixTimeSeconds());
        return Base64UrlEncoder.Encode(_protector.Protect(issuedAt));
    }

    /// <summary>Whether <paramref name="nonce"/> is one of ours and still fresh.</summary>
    public bool IsValid(string? nonce)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > 512)
        {
            return false;
        }

        byte[] issuedAt;
        try
        {
            issuedAt = _protector.Unprotect(Base64UrlEncoder.DecodeBytes(nonce));
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            return false;
        }

        if (issuedAt.Length != 8)
        {
            return false;
        }

        var age = time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64BigEndian(issuedAt));
        return age >= -options.ClockSkew && age <= options.NonceLifetime;
    }
}
