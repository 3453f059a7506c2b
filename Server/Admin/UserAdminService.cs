using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using IdentityServer.Accounts.Sessions;
using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tokens;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Admin;

/// <summary>A local account as admins see it in lists.</summary>
public sealed record UserView(string Id, string UserName, string? Email, bool IsAdmin, bool Disabled)
{
    public string? Name { get; init; }
    public bool EmailConfirmed { get; init; }
    /// <summary>Locked for a while after wrong passwords (not disabled).</summary>
    public bool LockedOut { get; init; }
    public bool PasswordChangeRequired { get; init; }
    public IReadOnlyList<string> Roles { get; init; } = [];
}

/// <summary>A new account and, when the server chose it, its password (shown once).</summary>
public sealed record CreatedUser(UserView User, string? GeneratedPassword);

/// <summary>One page of a user search, in a stable order (by normalized user name), and where the next one starts.</summary>
public sealed record UserPage(IReadOnlyList<UserView> Users, string? NextCursor);

/// <summary>A provider account linked to the person.</summary>
public sealed record ExternalLoginView(string Provider, string ProviderDisplayName, string ProviderKey);

/// <summary>An app holding grants for the person: remembered consent and live authorizations (token families).</summary>
public sealed record UserAppView(string ClientId, string ClientName, IReadOnlyList<string> Scopes, bool Consented, int Authorizations, DateTime Since);

/// <summary>A custom claim of the person (AspNetUserClaims).</summary>
public sealed record UserClaimView(string Type, string Value);

/// <summary>Everything an admin sees of one person.</summary>
public sealed record UserDetails(
    UserView User,
    DateTime? LockoutEnd,
    int AccessFailedCount,
    bool HasPassword,
    IReadOnlyList<ExternalLoginView> Logins,
    IReadOnlyList<SessionView> Sessions,
    IReadOnlyList<UserAppView> Apps,
    IReadOnlyList<UserClaimView> Claims,
    IReadOnlyList<AuditRecord> RecentAudit);

/// <summary>A profile change: null leaves a field as it is; an empty string clears name or email.</summary>
public sealed record UserProfileChange(string? UserName, string? Name, string? Email, bool? EmailVerified);

/// <summary>What deleting an account removed.</summary>
public sealed record DeletedUser(string Id, string UserName, int SessionsEnded, int GrantsRemoved, int TokensRemoved);

/// <summary>
/// User administration for the admin API, pages and CLI. Every change is checked against an existing account (ids are
/// attacker-chosen: a missing one is NotFound) and recorded in the audit log. The admin role is an ASP.NET Core Identity
/// role, <see cref="AdminRoles.Admin"/>, checked on every admin request, so taking it away (or disabling the account)
/// takes effect at once. An admin cannot disable, delete or demote themself, nor the last enabled admin.
/// </summary>
public sealed partial class UserAdminService(
    UserManager<ApplicationUser> users,
    RoleManager<IdentityRole> roles,
    IdentityDbContext db,
    SessionService sessions,
    RevocationNotices notices,
    AuditLog audit,
    TimeProvider time)
{
    public const int MaximumPageSize = 200;
    public const int MaximumClaimValueLength = 1000;

    public static string AuditTarget(string userId) => "user:" + userId;

    public async Task<AdminResult<CreatedUser>> CreateAsync(string userName, string? email, string? password, bool admin, AdminActor actor, CancellationToken cancellationToken)
    {
        var generated = string.IsNullOrEmpty(password) ? NewPassword() : null;
        var user = new ApplicationUser
        {
            UserName = userName,
            Email = string.IsNullOrWhiteSpace(email) ? null : email.Trim(),
            // Created by an admin, who vouches for the address; there is no mail round-trip in a headless setup.
            EmailConfirmed = !string.IsNullOrWhiteSpace(email),
            UpdatedAt = time.GetUtcNow().UtcDateTime,
        };
        if (user.Email is not null && !IsEmail(user.Email))
        {
            return AdminResult.Invalid<CreatedUser>(Invalid("email", "The email address is not valid."));
        }

        var result = await users.CreateAsync(user, password ?? generated!);
        if (!result.Succeeded)
        {
            return AdminResult.Invalid<CreatedUser>(IdentityError(result, "username"));
        }

        await audit.RecordAdminChangeAsync(actor, "user.created", AuditTarget(user.Id), new { user.UserName, user.Email }, cancellationToken);
        if (admin && await AddRoleAsync(user, AdminRoles.Admin, actor, cancellationToken) is { } roleError)
        {
            return AdminResult.Invalid<CreatedUser>(roleError);
        }

        return AdminResult.Ok<CreatedUser>(new CreatedUser(await ViewAsync(user), generated));
    }

    /// <summary>Gives an existing account the admin role.</summary>
    public async Task<AdminResult<UserView>> GrantAdminAsync(string userNameOrId, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await FindAsync(userNameOrId);
        if (user is null)
        {
            return AdminResult.NotFound<UserView>();
        }

        return await AddRoleAsync(user, AdminRoles.Admin, actor, cancellationToken) is { } error
            ? AdminResult.Invalid<UserView>(error)
            : AdminResult.Ok<UserView>(await ViewAsync(user));
    }

    /// <summary>Every account, by user name (the CLI's list; the API and pages page through <see cref="SearchAsync"/>).</summary>
    public async Task<IReadOnlyList<UserView>> ListAsync(CancellationToken cancellationToken) =>
        (await SearchAsync(null, 10_000, null, cancellationToken)).Users;

    /// <summary>
    /// Accounts whose user name or email contains <paramref name="query"/> (compared normalized, so case does not
    /// matter), ordered by normalized user name (unique), <paramref name="pageSize"/> at a time from
    /// <paramref name="cursor"/> (an opaque value of a previous page). A cursor that is not ours starts from the beginning.
    /// </summary>
    public async Task<UserPage> SearchAsync(string? query, int pageSize, string? cursor, CancellationToken cancellationToken)
    {
        var rows = users.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query))
        {
            var normalized = users.NormalizeName(query.Trim())!;
            rows = rows.Where(u => u.NormalizedUserName!.Contains(normalized) || (u.NormalizedEmail != null && u.NormalizedEmail.Contains(normalized)));
        }

        if (ReadCursor(cursor) is { } after)
        {
            // Translated to SQL's own comparison of the column (the order the page is sorted in); a StringComparison
            // argument would not translate.
#pragma warning disable CA1309
            rows = rows.Where(u => string.Compare(u.NormalizedUserName, after) > 0);
#pragma warning restore CA1309
        }

        var page = await rows.OrderBy(u => u.NormalizedUserName).Take(pageSize + 1).ToListAsync(cancellationToken);
        var more = page.Count > pageSize;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }

        var views = await ViewsAsync(page, cancellationToken);
        return new UserPage(views, more ? WriteCursor(page[^1].NormalizedUserName!) : null);
    }

    /// <summary>One person: profile, roles, provider logins, live sessions, apps with grants, custom claims and the latest audit entries about them.</summary>
    public async Task<UserDetails?> GetAsync(string userId, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return null;
        }

        var logins = (await users.GetLoginsAsync(user))
            .Select(l => new ExternalLoginView(l.LoginProvider, l.ProviderDisplayName ?? l.LoginProvider, l.ProviderKey))
            .OrderBy(l => l.Provider, StringComparer.Ordinal).ToList();
        var claims = await db.UserClaims.AsNoTracking().Where(c => c.UserId == user.Id).OrderBy(c => c.ClaimType).ThenBy(c => c.Id)
            .Select(c => new UserClaimView(c.ClaimType!, c.ClaimValue ?? "")).ToListAsync(cancellationToken);
        var recent = await audit.QueryAsync(new AuditQuery { Target = AuditTarget(user.Id), Limit = 20 }, cancellationToken);
        return new UserDetails(
            await ViewAsync(user),
            user.LockoutEnd?.UtcDateTime,
            user.AccessFailedCount,
            await users.HasPasswordAsync(user),
            logins,
            await sessions.ListSessionsAsync(user.Id, cancellationToken),
            await AppsAsync(user.Id, cancellationToken),
            claims,
            recent);
    }

    /// <summary>
    /// Changes user name, display name and email. A changed email is not verified unless <see cref="UserProfileChange.EmailVerified"/>
    /// says so; an unchanged one keeps its state unless that says otherwise. A user name taken by another account is a Conflict.
    /// </summary>
    public async Task<AdminResult<UserView>> UpdateProfileAsync(string userId, UserProfileChange change, AdminActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return AdminResult.NotFound<UserView>();
        }

        if (change.Name?.Length > 256)
        {
            return AdminResult.Invalid<UserView>(Invalid("name", "The name is limited to 256 characters."));
        }

        var email = change.Email is null ? user.Email : change.Email.Trim() is { Length: > 0 } trimmed ? trimmed : null;
        if (email is not null && change.Email is not null && !IsEmail(email))
        {
            return AdminResult.Invalid<UserView>(Invalid("email", "The email address is not valid."));
        }

        if (change.EmailVerified == true && email is null)
        {
            return AdminResult.Invalid<UserView>(Invalid("email_verified", "There is no email address to mark verified."));
        }

        var before = new { user.UserName, user.Name, user.Email, user.EmailConfirmed };
        var emailChanged = !string.Equals(email, user.Email, StringComparison.Ordinal);
        var userName = change.UserName?.Trim();
        if (userName is { Length: 0 })
        {
            return AdminResult.Invalid<UserView>(Invalid("username", "The user name cannot be empty."));
        }

        if (userName is not null && userName != user.UserName)
        {
            var holder = await users.FindByNameAsync(userName);
            if (holder is not null && holder.Id != user.Id)
            {
                return AdminResult.Conflict<UserView>(Invalid("username", $"The user name '{userName}' is already taken."));
            }

            user.UserName = userName;
        }

        if (change.Name is not null)
        {
            user.Name = change.Name.Trim() is { Length: > 0 } name ? name : null;
        }

        user.Email = email;
        user.EmailConfirmed = email is not null && (change.EmailVerified ?? (!emailChanged && user.EmailConfirmed));
        user.UpdatedAt = time.GetUtcNow().UtcDateTime;
        var result = await users.UpdateAsync(user);
        if (!result.Succeeded)
        {
            return result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName))
                ? AdminResult.Conflict<UserView>(IdentityError(result, "username"))
                : AdminResult.Invalid<UserView>(IdentityError(result, "username"));
        }

        await audit.RecordAdminChangeAsync(actor, "user.updated", AuditTarget(user.Id), new
        {
            Before = before,
            After = new { user.UserName, user.Name, user.Email, user.EmailConfirmed },
        }, cancellationToken);
        return AdminResult.Ok<UserView>(await ViewAsync(user));
    }

    /// <summary>
    /// Disables an account: it can no longer sign in (locked out without end), its sessions end and its grants are
    /// revoked, so its refresh tokens stop and its access tokens introspect inactive at once.
    /// </summary>
    public async Task<AdminResult<UserView>> DisableAsync(string userNameOrId, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await FindAsync(userNameOrId);
        if (user is null)
        {
            return AdminResult.NotFound<UserView>();
        }

        if (await ProtectedAdminProblemAsync(user, actor, "disable") is { } problem)
        {
            return AdminResult.Conflict<UserView>(problem);
        }

        await users.SetLockoutEnabledAsync(user, true);
        var result = await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue);
        if (!result.Succeeded)
        {
            return AdminResult.Invalid<UserView>(IdentityError(result, "username"));
        }

        await users.UpdateSecurityStampAsync(user);
        var ended = await sessions.SignOutEverywhereAsync(user.Id, cancellationToken);
        await audit.RecordAdminChangeAsync(actor, "user.disabled", AuditTarget(user.Id), new { user.UserName, SessionsEnded = ended }, cancellationToken);
        return AdminResult.Ok<UserView>(await ViewAsync(user));
    }

    /// <summary>Enables a disabled account again: the lockout ends and the failed-attempt count restarts.</summary>
    public async Task<AdminResult<UserView>> EnableAsync(string userNameOrId, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await FindAsync(userNameOrId);
        if (user is null)
        {
            return AdminResult.NotFound<UserView>();
        }

        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        await audit.RecordAdminChangeAsync(actor, "user.enabled", AuditTarget(user.Id), new { user.UserName }, cancellationToken);
        return AdminResult.Ok<UserView>(await ViewAsync(user));
    }

    /// <summary>
    /// Ends a lockout after wrong passwords: the lockout end is cleared and the failed-attempt count reset. A disabled
    /// account is not unlocked this way (Conflict): enabling it is a decision of its own.
    /// </summary>
    public async Task<AdminResult<UserView>> UnlockAsync(string userId, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return AdminResult.NotFound<UserView>();
        }

        if (AdminRoles.IsDisabled(user, time.GetUtcNow()))
        {
            return AdminResult.Conflict<UserView>(Invalid("user", "The account is disabled; enable it instead."));
        }

        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        await audit.RecordAdminChangeAsync(actor, "user.unlocked", AuditTarget(user.Id), new { user.UserName }, cancellationToken);
        return AdminResult.Ok<UserView>(await ViewAsync(user));
    }

    /// <summary>
    /// Forces a password reset: the person must choose a new password at their next password sign-in before the
    /// sign-in completes. Their sessions end and their grants are revoked now (a forced reset usually means the
    /// password may be known to someone else). An account without a password is Invalid.
    /// </summary>
    public async Task<AdminResult<UserView>> RequirePasswordChangeAsync(string userNameOrId, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await FindAsync(userNameOrId);
        if (user is null)
        {
            return AdminResult.NotFound<UserView>();
        }

        if (!await users.HasPasswordAsync(user))
        {
            return AdminResult.Invalid<UserView>(Invalid("user", "The account has no password: it signs in through a provider only."));
        }

        user.PasswordChangeRequiredAt = time.GetUtcNow().UtcDateTime;
        var result = await users.UpdateAsync(user);
        if (!result.Succeeded)
        {
            return AdminResult.Invalid<UserView>(IdentityError(result, "user"));
        }

        await users.UpdateSecurityStampAsync(user);
        var ended = await sessions.SignOutEverywhereAsync(user.Id, cancellationToken);
        await audit.RecordAdminChangeAsync(actor, "user.password_reset_required", AuditTarget(user.Id), new { user.UserName, SessionsEnded = ended }, cancellationToken);
        return AdminResult.Ok<UserView>(await ViewAsync(user));
    }

    /// <summary>
    /// Takes away every second factor of an account that lost them: two-step verification off, the authenticator key
    /// replaced, recovery codes and passkeys removed. The password (or a provider) alone signs in again; the security
    /// stamp changes, so every session ends. <paramref name="who"/> is a user name, a user id, or an email address that
    /// exactly one account has.
    /// </summary>
    public async Task<AdminResult<UserView>> ResetTwoFactorAsync(string who, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await FindAsync(who) ?? await FindByOnlyEmailAsync(who, cancellationToken);
        if (user is null)
        {
            return AdminResult.NotFound<UserView>();
        }

        var passkeys = await users.GetPasskeysAsync(user);
        foreach (var passkey in passkeys)
        {
            await users.RemovePasskeyAsync(user, passkey.CredentialId);
        }

        await users.SetTwoFactorEnabledAsync(user, false);
        await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
        // A new key (which also changes the security stamp): turning the app on again means scanning a new one.
        await users.ResetAuthenticatorKeyAsync(user);
        var ended = await sessions.SignOutEverywhereAsync(user.Id, cancellationToken);
        await audit.RecordAdminChangeAsync(actor, "user.two_factor_reset", AuditTarget(user.Id),
            new { user.UserName, PasskeysRemoved = passkeys.Count, SessionsEnded = ended }, cancellationToken);
        return AdminResult.Ok<UserView>(await ViewAsync(user));
    }

    private async Task<ApplicationUser?> FindByOnlyEmailAsync(string email, CancellationToken cancellationToken)
    {
        if (!email.Contains('@', StringComparison.Ordinal))
        {
            return null;
        }

        var normalized = users.NormalizeEmail(email);
        var matches = await db.Users.Where(u => u.NormalizedEmail == normalized).Take(2).ToListAsync(cancellationToken);
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>Ends every session of a person and revokes all their grants (the admin's "force sign-out").</summary>
    public async Task<int?> SignOutEverywhereAsync(string userId, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return null;
        }

        var ended = await sessions.SignOutEverywhereAsync(user.Id, cancellationToken);
        await audit.RecordAdminChangeAsync(actor, "user.signed_out", AuditTarget(user.Id), new { user.UserName, SessionsEnded = ended }, cancellationToken);
        return ended;
    }

    /// <summary>
    /// Deletes an account. Its sessions end (apps hear of it through back-channel logout), its grants and their
    /// refresh tokens and codes are revoked and then removed, remembered consent with them; its provider logins, roles,
    /// custom claims and Identity tokens go with the account. Audit entries stay, naming the user id. An admin cannot
    /// delete themself or the last enabled admin (Conflict).
    /// </summary>
    public async Task<AdminResult<DeletedUser>> DeleteAsync(string userNameOrId, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await FindAsync(userNameOrId);
        if (user is null)
        {
            return AdminResult.NotFound<DeletedUser>();
        }

        if (await ProtectedAdminProblemAsync(user, actor, "delete") is { } problem)
        {
            return AdminResult.Conflict<DeletedUser>(problem);
        }

        // First what apps must hear about: sessions end, grants are revoked, back-channel logout is queued.
        var ended = await sessions.SignOutEverywhereAsync(user.Id, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tokens = await db.Tokens.Where(t => t.Subject == user.Id).ExecuteDeleteAsync(cancellationToken);
        var grants = await db.Authorizations.Where(a => a.Subject == user.Id).ExecuteDeleteAsync(cancellationToken);
        // A session started between the two steps goes as well.
        await db.Sessions.Where(s => s.Subject == user.Id).ExecuteDeleteAsync(cancellationToken);
        audit.AddAdminChange(actor, "user.deleted", AuditTarget(user.Id), new
        {
            user.UserName,
            SessionsEnded = ended,
            GrantsRemoved = grants,
            TokensRemoved = tokens,
        });
        // Saves the audit entry with the deletion (same context, same transaction); logins, roles and claims cascade.
        var result = await users.DeleteAsync(user);
        if (!result.Succeeded)
        {
            db.ChangeTracker.Clear();
            return AdminResult.Invalid<DeletedUser>(IdentityError(result, "user"));
        }

        // Grants created since the sign-out everywhere above were deleted without a revocation of their own; this is
        // rare enough for every instance to drop its whole revocation cache.
        await notices.EverythingChangedAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return AdminResult.Ok<DeletedUser>(new DeletedUser(user.Id, user.UserName ?? "", ended, grants, tokens));
    }

    /// <summary>Every role with how many people hold it.</summary>
    public async Task<IReadOnlyList<(string Name, int Members)>> ListRolesAsync(CancellationToken cancellationToken)
    {
        var rows = await db.Roles.AsNoTracking()
            .Select(r => new { r.Name, Members = db.UserRoles.Count(ur => ur.RoleId == r.Id) })
            .ToListAsync(cancellationToken);
        return rows.Select(r => (r.Name ?? "", r.Members)).OrderBy(r => r.Item1, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Gives the person exactly <paramref name="wanted"/> roles (created when new). Role names are 1 to 64 letters,
    /// digits, '_', '-', '.' or ':'. An admin cannot take the admin role from themself or from the last enabled admin.
    /// </summary>
    public async Task<AdminResult<UserView>> SetRolesAsync(string userNameOrId, IReadOnlyCollection<string> wanted, AdminActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        var user = await FindAsync(userNameOrId);
        if (user is null)
        {
            return AdminResult.NotFound<UserView>();
        }

        var target = wanted.Select(r => r.Trim()).Where(r => r.Length > 0).ToHashSet(StringComparer.Ordinal);
        if (target.FirstOrDefault(r => !RoleName().IsMatch(r)) is { } bad)
        {
            return AdminResult.Invalid<UserView>(Invalid("roles", $"'{Shorten(bad)}' is not a valid role name: 1 to 64 letters, digits, '_', '-', '.' or ':'."));
        }

        var current = (await users.GetRolesAsync(user)).ToHashSet(StringComparer.Ordinal);
        if (current.Contains(AdminRoles.Admin) && !target.Contains(AdminRoles.Admin)
            && await ProtectedAdminProblemAsync(user, actor, "take the admin role from") is { } problem)
        {
            return AdminResult.Conflict<UserView>(problem);
        }

        foreach (var role in target.Except(current).Order(StringComparer.Ordinal))
        {
            if (await AddRoleAsync(user, role, actor, cancellationToken) is { } error)
            {
                return AdminResult.Invalid<UserView>(error);
            }
        }

        foreach (var role in current.Except(target).Order(StringComparer.Ordinal))
        {
            var removed = await users.RemoveFromRoleAsync(user, role);
            if (!removed.Succeeded)
            {
                return AdminResult.Invalid<UserView>(IdentityError(removed, "roles"));
            }

            await audit.RecordAdminChangeAsync(actor, role == AdminRoles.Admin ? "user.admin_revoked" : "user.role_removed", AuditTarget(user.Id),
                new { user.UserName, Role = role }, cancellationToken);
        }

        return AdminResult.Ok<UserView>(await ViewAsync(user));
    }

    /// <summary>Gives or takes away one role (the CLI's <c>users set-role</c>), with <see cref="SetRolesAsync"/>'s rules.</summary>
    public async Task<AdminResult<UserView>> ChangeRoleAsync(string userNameOrId, string role, bool add, AdminActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(role);
        var user = await FindAsync(userNameOrId);
        if (user is null)
        {
            return AdminResult.NotFound<UserView>();
        }

        var current = await users.GetRolesAsync(user);
        var target = add ? current.Append(role).ToList() : current.Where(r => r != role).ToList();
        return await SetRolesAsync(user.Id, target, actor, cancellationToken);
    }

    /// <summary>Adds a custom claim. Protocol claim names (sub, iss, aud, ...) and the server's own claims are refused.</summary>
    public async Task<AdminResult<UserClaimView>> AddClaimAsync(string userId, string? type, string? value, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return AdminResult.NotFound<UserClaimView>();
        }

        if (UserClaimTypes.Problem(type) is { } problem)
        {
            return AdminResult.Invalid<UserClaimView>(Invalid("type", problem));
        }

        if (string.IsNullOrEmpty(value) || value.Length > MaximumClaimValueLength)
        {
            return AdminResult.Invalid<UserClaimView>(Invalid("value", $"A claim value is 1 to {MaximumClaimValueLength} characters."));
        }

        if (await db.UserClaims.AnyAsync(c => c.UserId == user.Id && c.ClaimType == type && c.ClaimValue == value, cancellationToken))
        {
            return AdminResult.Conflict<UserClaimView>(Invalid("value", "The person already has this claim."));
        }

        if (await db.UserClaims.CountAsync(c => c.UserId == user.Id, cancellationToken) >= 100)
        {
            return AdminResult.Invalid<UserClaimView>(Invalid("type", "A person has at most 100 custom claims."));
        }

        db.UserClaims.Add(new IdentityUserClaim<string> { UserId = user.Id, ClaimType = type, ClaimValue = value });
        audit.AddAdminChange(actor, "user.claim_added", AuditTarget(user.Id), new { user.UserName, Type = type, Value = value });
        await db.SaveChangesAsync(cancellationToken);
        return AdminResult.Ok<UserClaimView>(new UserClaimView(type!, value));
    }

    /// <summary>Removes the person's custom claims of <paramref name="type"/> (only the one with <paramref name="value"/> when given); none is NotFound.</summary>
    public async Task<AdminResult<int>> RemoveClaimAsync(string userId, string type, string? value, AdminActor actor, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return AdminResult.NotFound<int>();
        }

        var rows = await db.UserClaims.Where(c => c.UserId == user.Id && c.ClaimType == type && (value == null || c.ClaimValue == value)).ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return AdminResult.NotFound<int>();
        }

        db.UserClaims.RemoveRange(rows);
        audit.AddAdminChange(actor, "user.claim_removed", AuditTarget(user.Id), new { user.UserName, Type = type, Value = value, Removed = rows.Count });
        await db.SaveChangesAsync(cancellationToken);
        return AdminResult.Ok<int>(rows.Count);
    }

    /// <summary>Why <paramref name="actor"/> may not <paramref name="verb"/> <paramref name="user"/>: it is themself, or the last enabled admin.</summary>
    private async Task<ClientMetadataError?> ProtectedAdminProblemAsync(ApplicationUser user, AdminActor actor, string verb)
    {
        if (actor.Id == user.Id)
        {
            return Invalid("user", $"You cannot {verb} your own account.");
        }

        if (!await users.IsInRoleAsync(user, AdminRoles.Admin))
        {
            return null;
        }

        var now = time.GetUtcNow();
        var others = (await users.GetUsersInRoleAsync(AdminRoles.Admin)).Count(a => a.Id != user.Id && !AdminRoles.IsDisabled(a, now));
        return others == 0 ? Invalid("user", $"You cannot {verb} the last administrator.") : null;
    }

    private async Task<ClientMetadataError?> AddRoleAsync(ApplicationUser user, string role, AdminActor actor, CancellationToken cancellationToken)
    {
        if (!await roles.RoleExistsAsync(role))
        {
            var created = await roles.CreateAsync(new IdentityRole(role));
            // Another process may have created it at the same moment; only a role that still does not exist is an error.
            if (!created.Succeeded && !await roles.RoleExistsAsync(role))
            {
                return IdentityError(created, "role");
            }
        }

        if (await users.IsInRoleAsync(user, role))
        {
            return null;
        }

        var result = await users.AddToRoleAsync(user, role);
        if (!result.Succeeded)
        {
            return IdentityError(result, "role");
        }

        // The admin role keeps its own action name (as before roles in general could be given).
        await audit.RecordAdminChangeAsync(actor, role == AdminRoles.Admin ? "user.admin_granted" : "user.role_added", AuditTarget(user.Id),
            role == AdminRoles.Admin ? new { user.UserName } : new { user.UserName, Role = role }, cancellationToken);
        return null;
    }

    private async Task<IReadOnlyList<UserAppView>> AppsAsync(string subject, CancellationToken cancellationToken)
    {
        var rows = await db.Authorizations.AsNoTracking()
            .Where(a => a.Subject == subject && a.Status == Statuses.Valid)
            .Select(a => new { a.Application!.ClientId, a.Application.DisplayName, a.Type, a.Scopes, a.CreationDate })
            .ToListAsync(cancellationToken);
        return rows.GroupBy(a => a.ClientId)
            .Select(g => new UserAppView(
                g.Key,
                g.First().DisplayName,
                g.SelectMany(a => a.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
                g.Any(a => a.Type == AuthorizationTypes.Permanent),
                g.Count(a => a.Type == AuthorizationTypes.AdHoc),
                DateTime.SpecifyKind(g.Min(a => a.CreationDate), DateTimeKind.Utc)))
            .OrderBy(a => a.ClientId, StringComparer.Ordinal)
            .ToList();
    }

    private async Task<ApplicationUser?> FindAsync(string userNameOrId) =>
        await users.FindByNameAsync(userNameOrId) ?? await users.FindByIdAsync(userNameOrId);

    private async Task<UserView> ViewAsync(ApplicationUser user) => (await ViewsAsync([user], CancellationToken.None))[0];

    private async Task<IReadOnlyList<UserView>> ViewsAsync(IReadOnlyList<ApplicationUser> page, CancellationToken cancellationToken)
    {
        var ids = page.Select(u => u.Id).ToList();
        var held = (await db.UserRoles.AsNoTracking().Where(ur => ids.Contains(ur.UserId))
                .Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => new { ur.UserId, r.Name })
                .ToListAsync(cancellationToken))
            .ToLookup(r => r.UserId, r => r.Name ?? "");
        var now = time.GetUtcNow();
        return page.Select(u =>
        {
            var userRoles = held[u.Id].Order(StringComparer.Ordinal).ToList();
            return new UserView(u.Id, u.UserName ?? "", u.Email, userRoles.Contains(AdminRoles.Admin), AdminRoles.IsDisabled(u, now))
            {
                Name = u.Name,
                EmailConfirmed = u.EmailConfirmed,
                LockedOut = !AdminRoles.IsDisabled(u, now) && u.LockoutEnabled && u.LockoutEnd > now,
                PasswordChangeRequired = u.PasswordChangeRequiredAt is not null,
                Roles = userRoles,
            };
        }).ToList();
    }

    private static string WriteCursor(string normalizedUserName) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(normalizedUserName));

    private static string? ReadCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor) || cursor.Length > 1000)
        {
            return null;
        }

        try
        {
            return Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(cursor));
        }
        catch (FormatException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool IsEmail(string email) => email.Length <= 256 && new EmailAddressAttribute().IsValid(email);

    private static string Shorten(string value) => value.Length > 40 ? value[..40] + "..." : value;

    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex RoleName();

    /// <summary>A password for a new account when none was given: 144 random bits, 24 characters.</summary>
    private static string NewPassword() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(18));

    private static ClientMetadataError Invalid(string field, string description) => new(RegistrationErrors.InvalidRequest, description, field);

    private static ClientMetadataError IdentityError(IdentityResult result, string field) =>
        new(RegistrationErrors.InvalidRequest, string.Join(" ", result.Errors.Select(e => e.Description)), field);
}
