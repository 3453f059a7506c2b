using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Jobs;

/// <summary>
/// Revoked JWT access tokens whose expiry is older than the retention threshold: an expired token is refused on its
/// own, so its jti need not be remembered (RFC 7009 §2.1); the retention covers clock differences between instances.
/// Walked by ExpirationDate (IX_RevokedAccessTokens_ExpirationDate); every row of a window is dead.
/// </summary>
internal sealed class RevokedAccessTokenPruneStep : IPruneStep
{
    public string Name => "revoked access tokens";

    public Task<DateTime?> FindWindowEndAsync(IdentityDbContext db, DateTime after, PruneCutoff cutoff, int batchSize, CancellationToken cancellationToken)
    {
        var threshold = cutoff.Threshold;
        return db.RevokedAccessTokens
            .Where(r => r.ExpirationDate > after && r.ExpirationDate < threshold)
            .OrderBy(r => r.ExpirationDate)
            .Select(r => (DateTime?)r.ExpirationDate)
            .Skip(batchSize - 1)
            .FirstOrDefaultAsync(cancellationToken);
    }

    public Task<int> DeleteWindowAsync(IdentityDbContext db, DateTime after, DateTime? upTo, PruneCutoff cutoff, CancellationToken cancellationToken)
    {
        var threshold = cutoff.Threshold;
        var end = upTo ?? threshold;
        return db.RevokedAccessTokens
            .Where(r => r.ExpirationDate > after && r.ExpirationDate <= end && r.ExpirationDate < threshold)
            .ExecuteDeleteAsync(cancellationToken);
    }
}
