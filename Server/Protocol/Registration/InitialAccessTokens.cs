using IdentityServer.Data;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Protocol;

/// <summary>
/// The initial access tokens (RFC 7591 §3) a registration presents: found by value and spent one use at a time. Admins
/// issue, list and revoke them (IdentityServer.Admin's InitialAccessTokenService); the table holds only their SHA-256.
/// </summary>
public sealed class InitialAccessTokens(IdentityDbContext db, TimeProvider time)
{
    /// <summary>The id of the live token with this value, or null. Does not use it up (see <see cref="TryUseAsync"/>).</summary>
    public async Task<string?> FindAsync(string? value, CancellationToken cancellationToken)
    {
        if (!OpaqueToken.IsWellFormed(value))
        {
            return null;
        }

        var hash = OpaqueToken.Hash(value!);
        var now = time.GetUtcNow().UtcDateTime;
        return await db.InitialAccessTokens.AsNoTracking()
            .Where(t => t.ReferenceId == hash && t.ExpirationDate > now && t.RemainingUses > 0)
            .Select(t => t.Id).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Spends one use. One conditional UPDATE, so concurrent registrations can never spend more uses than there are.</summary>
    public async Task<bool> TryUseAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var changed = await db.InitialAccessTokens
            .Where(t => t.Id == id && t.RemainingUses > 0 && t.ExpirationDate > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RemainingUses, t => t.RemainingUses - 1), cancellationToken);
        return changed == 1;
    }
}
