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
