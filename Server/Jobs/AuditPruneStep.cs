using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Jobs;

/// <summary>
/// Audit-log entries older than <see cref="PruningOptions.AuditRetention"/> (default 90 days), a retention of their own:
/// the run's threshold is for dead tokens. Walked by Timestamp (IX_AuditEntries_Timestamp); every row of a window
/// is old enough.
/// </summary>
internal sealed class AuditPruneStep(PruningOptions options) : IPruneStep
{
    public string Name => "audit entries";

    public Task<DateTime?> FindWindowEndAsync(IdentityDbContext db, DateTime after, PruneCutoff cutoff, int batchSize, CancellationToken cancellationToken)
    {
        var threshold = Threshold(cutoff);
        return db.AuditEntries
            .Where(e => e.Timestamp > after && e.Timestamp < threshold)
            .OrderBy(e => e.Timestamp)
            .Select(e => (DateTime?)e.Timestamp)
            .Skip(batchSize - 1)
            .FirstOrDefaultAsync(cancellationToken);
    }

    public Task<int> DeleteWindowAsync(IdentityDbContext db, DateTime after, DateTime? upTo, PruneCutoff cutoff, CancellationToken cancellationToken)
    {
        var threshold = Threshold(cutoff);
        var end = upTo ?? threshold;
        return db.AuditEntries
            .Where(e => e.Timestamp > after && e.Timestamp <= end && e.Timestamp < threshold)
            .ExecuteDeleteAsync(cancellationToken);
    }

    private DateTime Threshold(PruneCutoff cutoff) => cutoff.Now - options.AuditRetention;
}
