using IdentityServer.Data;

namespace IdentityServer.Jobs;

/// <summary>The instant a run prunes as of, and its retention threshold: only rows older than the threshold are candidates.</summary>
public readonly record struct PruneCutoff(DateTime Now, DateTime Threshold);

/// <summary>
/// Prunes one table: the extension point of the job. A new table with rows to expire (the audit log, when it exists)
/// gets one step, registered in <see cref="PruningRegistration"/>; steps run in registration order.
/// </summary>
/// <remarks>
/// The runner walks the candidate rows (older than the retention threshold) in the order of an indexed date column,
/// one window of at most BatchSize rows at a time: <see cref="FindWindowEndAsync"/> reads the key of the window's last
/// row, <see cref="DeleteWindowAsync"/> deletes the dead rows of the window in one set-based statement. Each window is
/// read once per run, whatever survives in it (live rows are never rescanned), and each statement is its own short
/// transaction. Two instances walking the same table at once only find fewer rows to delete.
/// </remarks>
public interface IPruneStep
{
    /// <summary>What the step deletes, for the logs ("tokens").</summary>
    string Name { get; }

    /// <summary>
    /// The key of the <paramref name="batchSize"/>-th candidate after <paramref name="after"/>, or null when fewer
    /// remain (the last window then runs up to the threshold). Reads one indexed column, never an entity.
    /// </summary>
    Task<DateTime?> FindWindowEndAsync(IdentityDbContext db, DateTime after, PruneCutoff cutoff, int batchSize, CancellationToken cancellationToken);

    /// <summary>Deletes the dead rows whose key is in (<paramref name="after"/>, <paramref name="upTo"/>] (null: up to the threshold).</summary>
    Task<int> DeleteWindowAsync(IdentityDbContext db, DateTime after, DateTime? upTo, PruneCutoff cutoff, CancellationToken cancellationToken);
}
