using System.Security.Cryptography;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// RFC 6238 codes as an authenticator app computes them (HMAC-SHA1, 30-second steps, 6 digits), from the Base32 key the
/// enrolment page shows. On the real clock: Identity's authenticator provider does not read the server's TimeProvider.
/// </summary>
public static class Totp
{
    /// <summary>The code of the current step, or of a neighbouring one (Identity accepts two steps either side).</summary>
    public static string Code(string base32Key, int stepOffset = 0)
    {
        var step = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30 + stepOffset;
        var counter = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(counter, step);
#pragma warning disable CA5350 // RFC 6238's default, which authenticator apps (and Identity) use.
        var hash = HMACSHA1.HashData(Base32(base32Key), counter);
#pragma warning restore CA5350
        // RFC 4226 §5.3: dynamic truncation.
        var offset = hash[^1] & 0x0f;
        var binary = ((hash[offset] & 0x7f) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        return (binary % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static byte[] Base32(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var clean = new string([.. text.ToUpperInvariant().Where(c => c is not (' ' or '=' or '-'))]);
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in clean)
        {
            buffer = (buffer << 5) | alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        return [.. bytes];
    }
}
