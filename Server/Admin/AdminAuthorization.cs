using System.Security.Claims;
using IdentityServer.Clients;
using IdentityServer.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Admin;

public static class AdminRoles
{
    /// <summary>The ASP.NET Core Identity role of administrators.</summary>
    public const string Admin = "admin";

    /// <summary>Disabled is a lockout without practical end; a few minutes' lockout after wrong passwords is not "disabled".</summary>
    public static bool IsDisabled(ApplicationUser user, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.LockoutEnabled && user.LockoutEnd > now.AddYears(100);
    }
}

public static class AdminPolicies
{
    /// <summary>The admin API: an access token of ours with the admin scope, whose subject is an admin now.</summary>
    public const string Api = "admin-api";

    /// <summary>The admin pages: a cookie session of a person who is an admin now.</summary>
    public const string Pages = "admin-pages";

    public static void Add(AuthorizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddPolicy(Api, policy => policy
            .AddAuthenticationSchemes(AdminApiAuthentication.SchemeName)
            .RequireAuthenticatedUser()
            .AddRequirements(new AdminRequirement()));
        options.AddPolicy(Pages, policy => policy
            .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme)
            .RequireAuthenticatedUser()
            .AddRequirements(new AdminRequirement()));
    }
}

/// <summary>The caller is an administrator at the time of the request.</summary>
public sealed class AdminRequirement : IAuthorizationRequirement;

/// <summary>
/// Decides <see cref="AdminRequirement"/> from the database on every request, not from claims captured at sign-in or
/// token issuance: the user must exist, hold the admin role and not be disabled. So demoting or disabling an admin
/// takes effect at once, on every instance, for sessions and tokens alike. A token must also carry the admin scope
/// (RFC 6750 §3.1 insufficient_scope otherwise) and be delegated by a person (a client_credentials token's subject is
/// a client, never an admin) — unless that client is a service account (<see cref="ClientDescriptor.AdminServiceAccountPermission"/>),
/// enabled now, asking for itself.
/// </summary>
public sealed class AdminRequirementHandler(UserManager<ApplicationUser> users, ClientStore clients, TimeProvider time, AdminOptions options) : AuthorizationHandler<AdminRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminRequirement requirement)
    {
        var principal = context.User;
        var token = principal.Identities.FirstOrDefault(i => i.AuthenticationType == AdminApiAuthentication.SchemeName);
        if (token is not null && !token.HasClaim(AdminApiAuthentication.ScopeClaim, ScopeCatalog.Admin))
        {
            return;
        }

        if (token is not null && !token.HasClaim(c => c.Type == AdminApiAuthentication.GrantIdClaim))
        {
            // A client_credentials token (no grant of a person): its subject is the client itself.
            var clientId = token.FindFirst(AdminApiAuthentication.ClientIdClaim)?.Value;
            if (clientId is not null && clientId == principal.FindFirstValue(ClaimTypes.NameIdentifier)
                && await clients.FindAsync(clientId) is { Enabled: true, IsAdminServiceAccount: true })
            {
                context.Succeed(requirement);
            }

            return;
        }

        var userId = principal.FindFirstValue(ClaimTypes.NameIdentifier);
        var user = userId is null ? null : await users.FindByIdAsync(userId);
        if (user is not null && !AdminRoles.IsDisabled(user, time.GetUtcNow()) && await users.IsInRoleAsync(user, AdminRoles.Admin))
        {
            if (options.RequireTwoFactor && !AdminTwoFactor.IsMultiFactor(principal))
            {
                context.Fail(new AuthorizationFailureReason(this, AdminTwoFactor.FailureReason));
                return;
            }

            context.Succeed(requirement);
        }
    }
}
