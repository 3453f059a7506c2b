using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Accounts;

/// <summary>
/// The claims a person's granted scopes release: the standard ones (OpenID Connect Core §5.4), their roles (the
/// <c>roles</c> scope) and their custom claims (AspNetUserClaims) of the types a granted scope lists
/// (<see cref="ScopeDescriptor.Claims"/>). Roles and custom claims are read only when a granted scope asks for them.
/// </summary>
public sealed class UserClaimsReader(IdentityDbContext db, AccountQueries queries, ScopeCatalog catalog)
{
    public async Task<UserClaimSet?> ReadAsync(string subject, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        var user = await queries.UserById(db, subject, cancellationToken);
        if (user is null)
        {
            return null;
        }

        var claims = For(user, scopes);
        if (scopes.Contains(ScopeCatalog.Roles))
        {
            claims.Roles = [.. (await db.UserRoles.AsNoTracking().Where(r => r.UserId == subject)
                .Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!)
                .ToListAsync(cancellationToken)).Order(StringComparer.Ordinal)];
        }

        var all = await catalog.GetAllAsync(cancellationToken);
        // Claim type -> the granted scopes releasing it.
        var released = scopes.Select(s => all.GetValueOrDefault(s)).OfType<ScopeDescriptor>()
            .SelectMany(s => s.Claims.Select(type => (Type: type, Scope: s.Name)))
            .Where(c => UserClaimTypes.Problem(c.Type) is null)
            .GroupBy(c => c.Type, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(c => c.Scope).Distinct(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
        if (released.Count > 0)
        {
            var types = released.Keys.ToList();
            var rows = await db.UserClaims.AsNoTracking().Where(c => c.UserId == subject && types.Contains(c.ClaimType!))
                .OrderBy(c => c.Id).Select(c => new { c.ClaimType, c.ClaimValue }).ToListAsync(cancellationToken);
            claims.Custom = rows.GroupBy(r => r.ClaimType!, StringComparer.Ordinal)
                .Select(g => new ReleasedClaim { Type = g.Key, Values = [.. g.Select(r => r.ClaimValue ?? "")], Scopes = released[g.Key] })
                .OrderBy(c => c.Type, StringComparer.Ordinal)
                .ToList();
        }

        return claims;
    }

    public static UserClaimSet For(ApplicationUser user, IReadOnlyCollection<string> scopes)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(scopes);
        var claims = new UserClaimSet();
        if (scopes.Contains(ScopeCatalog.Profile))
        {
            claims.Name = user.Name ?? user.UserName;
            claims.PreferredUsername = user.UserName;
            claims.Picture = user.Picture;
            claims.UpdatedAt = new DateTimeOffset(DateTime.SpecifyKind(user.UpdatedAt, DateTimeKind.Utc)).ToUnixTimeSeconds();
        }

        if (scopes.Contains(ScopeCatalog.Email) && !string.IsNullOrEmpty(user.Email))
        {
            claims.Email = user.Email;
            claims.EmailVerified = user.EmailConfirmed;
        }

        return claims;
    }
}
