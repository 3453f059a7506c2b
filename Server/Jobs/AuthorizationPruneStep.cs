using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Jobs;

/// <summary>
/// Grants created before the retention threshold that are revoked, or ad-hoc (one sign-in's token family), once no
/// token of theirs is left. Walked by CreationDate (IX_Authorizations_CreationDate). Runs after the tokens step.
/// </summary>
/// <remarks>
/// A valid permanent authorization (remembered consent) is never deleted, and neither is a live refresh-token family:
/// it always holds its current refresh token, which the tokens step keeps. Waiting for the grant's tokens to be pruned
/// first means the foreign key's cascade never deletes tokens younger than the retention window, and keeps each
/// statement bounded by the window.
/// </remarks>
internal sealed class AuthorizationPruneStep : IPruneStep
{
    public string Name => "authorizations";

    public Task<DateTime?> FindWindowEndAsync(IdentityDbContext db, DateTime after, PruneCutoff cutoff, int batchSize, CancellationToken cancellationToken)
    {
        var threshold = cutoff.Threshold;
        return db.Authorizations
            .Where(a => a.CreationDate > after && a.CreationDate < threshold)
            .OrderBy(a => a.CreationDate)
            .Select(a => (DateTime?)a.CreationDate)
            .Skip(batchSize - 1)
            .FirstOrDefaultAsync(cancellationToken);
    }

    public Task<int> DeleteWindowAsync(IdentityDbContext db, DateTime after, DateTime? upTo, PruneCutoff cutoff, CancellationToken cancellationToken)
    {
        var threshold = cutoff.Threshold;
        var end = upTo ?? threshold;
        // "Has a token" is a correlated scalar subquery (SELECT ... LIMIT 1) rather than EXISTS, so the database probes
        // IX_Tokens_AuthorizationId once per grant of the window instead of choosing to hash the whole Tokens table.
        return db.Authorizations
            .Where(a => a.CreationDate > after && a.CreationDate <= end && a.CreationDate < threshold)
            .Where(a => (a.Status != Statuses.Valid || a.Type == AuthorizationTypes.AdHoc)
                && !db.Tokens.Where(t => t.AuthorizationId == a.Id).Select(t => true).FirstOrDefault())
            .ExecuteDeleteAsync(cancellationToken);
    }
}
