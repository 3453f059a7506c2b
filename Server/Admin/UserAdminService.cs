using System.Security.Cryptography;
using IdentityServer.Accounts.Sessions;
using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Admin;

/// <summary>A local account as admins see it.</summary>
public sealed record UserView(string Id, string UserName, string? Email, bool IsAdmin, bool Disabled);

/// <summary>A new account and, when the server chose it, its password (shown once).</summary>
public sealed record CreatedUser(UserView User, string? GeneratedPassword);

/// <summary>
/// Local accounts for headless setups (the CLI) and the admin's "sign this person out everywhere". The admin role is an
/// ASP.NET Core Identity role, <see cref="AdminRoles.Admin"/>; it is checked on every admin request, so taking it away
/// (or disabling the account) takes effect at once.
/// </summary>
public sealed class UserAdminService(
    UserManager<ApplicationUser> users,
    RoleManager<IdentityRole> roles,
    SessionService sessions,
    AuditLog audit,
    TimeProvider time)
{
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
        var result = await users.CreateAsync(user, password ?? generated!);
        if (!result.Succeeded)
        {
            return AdminResult.Invalid<CreatedUser>(IdentityError(result, "username"));
        }

        await audit.RecordAdminChangeAsync(actor, "user.created", AuditTarget(user.Id), new { user.UserName, user.Email }, cancellationToken);
        if (admin && await GrantAdminAsync(user, actor, cancellationToken) is { } roleError)
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

        return await GrantAdminAsync(user, actor, cancellationToken) is { } error
            ? AdminResult.Invalid<UserView>(error)
            : AdminResult.Ok<UserView>(await ViewAsync(user));
    }

    public async Task<IReadOnlyList<UserView>> ListAsync(CancellationToken cancellationToken)
    {
        var admins = (await users.GetUsersInRoleAsync(AdminRoles.Admin)).Select(u => u.Id).ToHashSet(StringComparer.Ordinal);
        var now = time.GetUtcNow();
        var rows = await users.Users.AsNoTracking().OrderBy(u => u.UserName).Take(10_000).ToListAsync(cancellationToken);
        return rows.Select(u => new UserView(u.Id, u.UserName ?? "", u.Email, admins.Contains(u.Id), IsDisabled(u, now))).ToList();
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

        await users.SetLockoutEnabledAsync(user, true);
        var result = await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue);
        if (!result.Succeeded)
        {
            return AdminResult.Invalid<UserView>(IdentityError(result, "username"));
        }

        await users.UpdateSecurityStampAsync(user);
        await sessions.SignOutEverywhereAsync(user.Id, cancellationToken);
        await audit.RecordAdminChangeAsync(actor, "user.disabled", AuditTarget(user.Id), new { user.UserName }, cancellationToken);
        return AdminResult.Ok<UserView>(await ViewAsync(user));
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

    private async Task<ClientMetadataError?> GrantAdminAsync(ApplicationUser user, AdminActor actor, CancellationToken cancellationToken)
    {
        if (!await roles.RoleExistsAsync(AdminRoles.Admin))
        {
            var created = await roles.CreateAsync(new IdentityRole(AdminRoles.Admin));
            // Another process may have created it at the same moment; only a role that still does not exist is an error.
            if (!created.Succeeded && !await roles.RoleExistsAsync(AdminRoles.Admin))
            {
                return IdentityError(created, "role");
            }
        }

        if (await users.IsInRoleAsync(user, AdminRoles.Admin))
        {
            return null;
        }

        var result = await users.AddToRoleAsync(user, AdminRoles.Admin);
        if (!result.Succeeded)
        {
            return IdentityError(result, "role");
        }

        await audit.RecordAdminChangeAsync(actor, "user.admin_granted", AuditTarget(user.Id), new { user.UserName }, cancellationToken);
        return null;
    }

    private async Task<ApplicationUser?> FindAsync(string userNameOrId) =>
        await users.FindByNameAsync(userNameOrId) ?? await users.FindByIdAsync(userNameOrId);

    private async Task<UserView> ViewAsync(ApplicationUser user) =>
        new(user.Id, user.UserName ?? "", user.Email, await users.IsInRoleAsync(user, AdminRoles.Admin), IsDisabled(user, time.GetUtcNow()));

    private static bool IsDisabled(ApplicationUser user, DateTimeOffset now) => AdminRoles.IsDisabled(user, now);

    /// <summary>A password for a new account when none was given: 144 random bits, 24 characters.</summary>
    private static string NewPassword() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(18));

    private static ClientMetadataError IdentityError(IdentityResult result, string field) =>
        new(RegistrationErrors.InvalidRequest, string.Join(" ", result.Errors.Select(e => e.Description)), field);
}
