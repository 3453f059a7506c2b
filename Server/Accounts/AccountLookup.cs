using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Accounts;

/// <summary>
/// Finding accounts by email. Emails are not unique here (a local registration's address is unverified, so it may
/// repeat an address another account holds), which Identity's <c>FindByEmailAsync</c> does not allow: it throws when
/// two accounts share one.
/// </summary>
public sealed class AccountLookup(IdentityDbContext db, UserManager<ApplicationUser> users)
{
    /// <summary>Up to <paramref name="limit"/> accounts holding this address (compared normalized, as Identity does).</summary>
    public async Task<List<ApplicationUser>> WithEmailAsync(string email, int limit, CancellationToken cancellationToken)
    {
        var normalized = users.NormalizeEmail(email);
        return await db.Users.Where(u => u.NormalizedEmail == normalized).OrderBy(u => u.Id).Take(limit).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> accounts whose VERIFIED address this is, compared normalized as Identity does.
    /// Identity's normalizer folds Unicode case (U+017F LATIN SMALL LETTER LONG S becomes "S", U+0131 DOTLESS I becomes
    /// "I"), so this finds look-alikes too: a caller that hands an account over compares with <see cref="SameAddress"/>.
    /// </summary>
    public async Task<List<ApplicationUser>> WithVerifiedEmailAsync(string email, int limit, CancellationToken cancellationToken)
    {
        var normalized = users.NormalizeEmail(email);
        return await db.Users.Where(u => u.NormalizedEmail == normalized && u.EmailConfirmed).OrderBy(u => u.Id).Take(limit).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Whether two addresses are the same for handing an account over: equal character for character once ASCII letters
    /// are folded to lower case, and nothing else folded or normalized. Unicode case folding would make
    /// "admin@exampleſ.com" the same as "admin@examples.com" (the Unicode case-mapping collisions behind account
    /// takeovers through look-alike addresses). ASCII case is folded because a domain's case never matters (RFC 5321
    /// §2.4) and Identity's own lookup already ignores it.
    /// </summary>
    public static bool SameAddress(string? first, string? second)
    {
        if (first is null || second is null || first.Length != second.Length)
        {
            return false;
        }

        for (var i = 0; i < first.Length; i++)
        {
            if (FoldAscii(first[i]) != FoldAscii(second[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static char FoldAscii(char c) => char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;

    /// <summary>
    /// The account a sign-in form's "username or email" names: by user name, else the one account whose verified
    /// address it is, else the only account with that address. Ambiguous means none: the person can use the user name.
    /// </summary>
    public async Task<ApplicationUser?> ForSignInAsync(string usernameOrEmail, CancellationToken cancellationToken)
    {
        var byName = await users.FindByNameAsync(usernameOrEmail);
        if (byName is not null || !usernameOrEmail.Contains('@', StringComparison.Ordinal))
        {
            return byName;
        }

        var candidates = await WithEmailAsync(usernameOrEmail, 20, cancellationToken);
        var verified = candidates.Where(u => u.EmailConfirmed).ToList();
        return verified.Count == 1 ? verified[0] : candidates.Count == 1 ? candidates[0] : null;
    }
}
