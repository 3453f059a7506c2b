using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Accounts.Passkeys;

/// <summary>
/// What Identity's assertion result does not report: whether the authenticator verified the user. Read from the
/// authenticator data of an assertion Identity has already verified (the flags byte is covered by the signature).
/// </summary>
public static class PasskeyAssertionFlags
{
    /// <summary>WebAuthn §6.1: authenticator data is rpIdHash (32 bytes), then the flags byte; bit 2 is UV.</summary>
    private const int FlagsOffset = 32;
    private const byte UserVerifiedBit = 0x04;

    /// <summary>True when the assertion's authenticator data has the UV flag; false when it has not or cannot be read.</summary>
    public static bool UserVerified(string credentialJson)
    {
        try
        {
            using var document = JsonDocument.Parse(credentialJson);
            if (document.RootElement.TryGetProperty("response", out var response)
                && response.TryGetProperty("authenticatorData", out var data)
                && data.ValueKind == JsonValueKind.String)
            {
                var bytes = WebEncoders.Base64UrlDecode(data.GetString()!);
                return bytes.Length > FlagsOffset && (bytes[FlagsOffset] & UserVerifiedBit) != 0;
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            // Unreadable: treated as not verified (the weaker reading).
        }

        return false;
    }
}
