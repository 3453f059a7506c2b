using IdentityServer.Data;

namespace IdentityServer.Accounts;

/// <summary>
/// Locked versus disabled. Identity has one lockout end per account, used two ways here: wrong passwords lock the
/// password for a few minutes (<c>Lockout.DefaultLockoutTimeSpan</c>), and an admin disables an account by locking it
/// without practical end (the same rule as the admin area's). Only the password sign-in honours the first: a locked
/// password must not lock the person out of every way in (docs/security.md, "Lockout"), so a linked provider still
/// signs them in. Every way in honours the second.
/// </summary>
public static class AccountStatus
{
    public static bool IsDisabled(ApplicationUser user, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.LockoutEnabled && user.LockoutEnd > now.AddYears(100);
    }
}
