using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Jobs;

/// <summary>
/// Reference tokens (codes, refresh tokens) created before the retention threshold that can no longer be used: expired,
/// revoked, or whose grant is revoked or ended. Walked by CreationDate (IX_Tokens_CreationDate).
/// </summary>
/// <remarks>
/// What survives: an unexpired token whose grant is live (valid and not past its absolute end), whether valid or
/// redeemed. A redeemed token is kept while it could still be presented: presenting it again is how reuse of a rotated
/// refresh token (RFC 9700 §4.14.2) or a replayed code (RFC 6749 §4.1.2) is detected and the grant revoked, so it
/// goes only once it expires or its grant is dead (or, having no grant, there is nothing to revoke).
/// </remarks>
internal sealed class TokenPruneStep : IPruneStep
{
    public string Name => "tokens";

    public Task<DateTime?> FindWindowEndAsync(IdentityDbContext db, DateTime after, PruneCutoff cutoff, int batchSize, CancellationToken cancellationToken)
    {
        var threshold = cutoff.Threshold;
        return db.Tokens
            .Where(t => t.CreationDate > after && t.CreationDate < threshold)
            .OrderBy(t => t.CreationDate)
            .Select(t => (DateTime?)t.CreationDate)
            .Skip(batchSize - 1)
            .FirstOrDefaultAsync(cancellationToken);
    }

    public Task<int> DeleteWindowAsync(IdentityDbContext db, DateTime after, DateTime? upTo, PruneCutoff cutoff, CancellationToken cancellationToken)
    {
        var (now, threshold) = cutoff;
        var end = upTo ?? threshold;
        // The grant's liveness is a correlated scalar subquery (SELECT ... LIMIT 1), not EXISTS: a database can answer
        // EXISTS under OR with a hash of the whole Authorizations table, per statement; this form is one primary-key
        // lookup per row of the window, and only for rows not already dead by expiry or status.
        return db.Tokens
            .Where(t => t.CreationDate > after && t.CreationDate <= end && t.CreationDate < threshold)
            .Where(t => t.ExpirationDate <= now
                || (t.Status != Statuses.Valid && t.Status != Statuses.Redeemed)
                || (t.AuthorizationId == null && t.Status == Statuses.Redeemed)
                || (t.AuthorizationId != null && !db.Authorizations
                    .Where(a => a.Id == t.AuthorizationId)
                    .Select(a => a.Status == Statuses.Valid && (a.ExpirationDate == null || a.ExpirationDate > now))
                    .FirstOrDefault()))
            .ExecuteDeleteAsync(cancellationToken);
    }
}
