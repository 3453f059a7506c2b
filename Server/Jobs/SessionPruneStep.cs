using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Jobs;

/// <summary>
/// Sign-in sessions that ended (idle timeout or absolute end) before the retention threshold: an ended session is
/// refused on its own, and nobody resumes it. Walked by ExpirationDate (IX_Sessions_ExpirationDate); every row of a
/// window is dead.
/// </summary>
internal sealed class SessionPruneStep : IPruneStep
{
    public string Name => "sign-in sessions";

    public Task<DateTime?> FindWindowEndAsync(IdentityDbContext db, DateTime after, PruneCutoff cutoff, int batchSize, CancellationToken cancellationToken)
    {
        var threshold = cutoff.Threshold;
        return db.Sessions
            .Where(s => s.ExpirationDate > after && s.ExpirationDate < threshold)
            .OrderBy(s => s.ExpirationDate)
            .Select(s => (DateTime?)s.ExpirationDate)
            .Skip(batchSize - 1)
            .FirstOrDefaultAsync(cancellationToken);
    }

    public Task<int> DeleteWindowAsync(IdentityDbContext db, DateTime after, DateTime? upTo, PruneCutoff cutoff, CancellationToken cancellationToken)
    {
        var threshold = cutoff.Threshold;
        var end = upTo ?? threshold;
        return db.Sessions
            .Where(s => s.ExpirationDate > after && s.ExpirationDate <= end && s.ExpirationDate < threshold)
            .ExecuteDeleteAsync(cancellationToken);
    }
}
