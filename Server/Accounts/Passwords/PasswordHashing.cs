using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Accounts.Passwords;

/// <summary>
/// How local passwords are stored: Identity's v3 format, PBKDF2 with HMAC-SHA512 and a 128-bit salt, at the work factor
/// OWASP's Password Storage Cheat Sheet gives for PBKDF2-HMAC-SHA512 (210,000 iterations; ASVS 5.0 11.4.2). A hash made
/// with fewer iterations (Identity's default of 100,000, or an older one) still verifies, and Identity answers
/// <see cref="PasswordVerificationResult.SuccessRehashNeeded"/>: <c>UserManager.CheckPasswordAsync</c>, which every
/// password sign-in goes through, then stores a new hash at this count (the person's next sign-in upgrades them).
/// </summary>
public static class PasswordHashing
{
    public const int Iterations = 210_000;

    public static void Configure(PasswordHasherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3;
        options.IterationCount = Iterations;
    }
}
