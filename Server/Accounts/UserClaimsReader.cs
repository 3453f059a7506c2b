using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tokens;

namespace IdentityServer.Accounts;

/// <summary>The standard claims a person's granted scopes release (OpenID Connect Core §5.4).</summary>
public sealed class UserClaimsReader(IdentityDbContext db, AccountQueries queries)
{
    public async Task<UserClaimSet?> ReadAsync(string subject, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        var user = await queries.UserById(db, subject, cancellationToken);
        return user is null ? null : For(user, scopes);
    }

    public static UserClaimSet For(ApplicationUser user, IReadOnlyCollection<string> scopes)
    {
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
