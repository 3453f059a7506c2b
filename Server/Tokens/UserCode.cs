using System.Security.Cryptography;

namespace IdentityServer.Tokens;

/// <summary>
/// The user_code a person types (RFC 8628 §6.1): 8 letters from 20 consonants that are hard to confuse (no vowels, so
/// no words; no I, O, U, Y) shown as XXXX-XXXX. 20^8 ≈ 2.6·10^10 (about 34 bits): enough against guessing only with
/// the attempt limits of the user-code page. Input is normalized before lookup: case, dashes and spaces do not matter.
/// </summary>
public static class UserCode
{
    public const string Alphabet = "BCDFGHJKLMNPQRSTVWXZ";
    public const int Length = 8;

    /// <summary>A new code in its display form, XXXX-XXXX.</summary>
    public static string Create()
    {
        Span<char> letters = stackalloc char[Length];
        for (var i = 0; i < Length; i++)
        {
            letters[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return Display(new string(letters));
    }

    /// <summary>XXXXXXXX as XXXX-XXXX.</summary>
    public static string Display(string normalized) => normalized[..4] + "-" + normalized[4..];

    /// <summary>
    /// The code as stored (8 upper-case letters of <see cref="Alphabet"/>), or null when the input cannot be one:
    /// §6.1 "the server should ignore the punctuation and case", so dashes, spaces and lower case are accepted.
    /// </summary>
    public static string? Normalize(string? input)
    {
        if (string.IsNullOrEmpty(input) || input.Length > 32)
        {
            return null;
        }

        Span<char> letters = stackalloc char[Length];
        var count = 0;
        foreach (var c in input)
        {
            if (c is '-' or ' ')
            {
                continue;
            }

            var upper = char.ToUpperInvariant(c);
            if (count == Length || !Alphabet.Contains(upper, StringComparison.Ordinal))
            {
                return null;
            }

            letters[count++] = upper;
        }

        return count == Length ? new string(letters) : null;
    }

    public static string Hash(string normalized) => OpaqueToken.Hash("user_code:" + normalized);
}
