using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Accounts;

/// <summary>
/// An authenticator code is good once. RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the OTP after
/// the successful validation has been issued for the first OTP". Identity's authenticator provider accepts a code for a
/// few 30-second steps around now and keeps no record; this one keeps the last accepted code (hashed, with its time) as
/// an Identity user token and refuses it again while it could still be valid.
/// </summary>
public static class AuthenticatorCodeUse
{
    private const string Provider = "[IdentityServer]";
    private const string Name = "LastAuthenticatorCode";

    /// <summary>Longer than any code stays valid (Identity: two steps either side of now, 150 s at most).</summary>
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Records the use of a code already verified; false when it was used before. The record is saved with the user row
    /// and its concurrency stamp, so of two requests racing with one code exactly one wins.
    /// </summary>
    public static async Task<bool> TryUseAsync(UserManager<ApplicationUser> users, ApplicationUser user, string code, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(user);
        var hash = Hash(user.Id, code);
        var last = await users.GetAuthenticationTokenAsync(user, Provider, Name);
        if (last?.Split(':') is [var lastHash, var seconds]
            && long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var usedAt)
            && now - DateTimeOffset.FromUnixTimeSeconds(usedAt) < Window
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(lastHash), Encoding.ASCII.GetBytes(hash)))
        {
            return false;
        }

        var saved = await users.SetAuthenticationTokenAsync(user, Provider, Name,
            hash + ":" + now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        return saved.Succeeded;
    }

    private static string Hash(string userId, string code) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(userId + ":" + code)));
}
