using IdentityServer.Data;
using IdentityServer.Hosting;

namespace IdentityServer.Jobs;

/// <summary>
/// One pruning run: each step (tokens, then authorizations, revoked access tokens, sign-in sessions, initial access
/// tokens, the audit log) walks its table in windows of
/// BatchSize rows and deletes the dead ones, as of the injected clock minus the retention. Used by the Quartz job and
/// the <c>prune</c> command. Safe to run on several instances at once: every statement is idempotent and decides from
/// the database alone, so concurrent runs end in the same state as one.
/// </summary>
public sealed class PruneService(
    IServiceScopeFactory scopes,
    IEnumerable<IPruneStep> steps,
    PruningOptions options,
    TimeProvider time,
    ServerMetrics metrics,
    ILogger<PruneService> logger)
{
    private static readonly DateTime Start = DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);

    public async Task<PruneResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var run = await RunStepsAsync(cancellationToken);
            metrics.PruneRun(succeeded: true);
            return run;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.PruneRun(succeeded: false);
            throw;
        }
    }

    private async Task<PruneResult> RunStepsAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var now = time.GetUtcNow().UtcDateTime;
        var cutoff = new PruneCutoff(now, now - options.Retention);
        var results = new List<PruneStepResult>();

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        foreach (var step in steps)
        {
            var stepStarted = time.GetTimestamp();
            var (deleted, batches) = await RunStepAsync(step, db, cutoff, cancellationToken);
            var result = new PruneStepResult(step.Name, deleted, batches, time.GetElapsedTime(stepStarted));
            logger.LogInformation("Pruning: deleted {Deleted} {Step} in {Batches} batch(es), {ElapsedMs:F0} ms",
                result.Deleted, result.Step, result.Batches, result.Elapsed.TotalMilliseconds);
            metrics.Pruned(step.Name, deleted);
            results.Add(result);
        }

        var run = new PruneResult(cutoff.Threshold, results, time.GetElapsedTime(started));
        logger.LogInformation("Pruning finished: {Summary}", run);
        return run;
    }

    private async Task<(int Deleted, int Batches)> RunStepAsync(IPruneStep step, IdentityDbContext db, PruneCutoff cutoff, CancellationToken cancellationToken)
    {
        var after = Start;
        var deleted = 0;
        var batches = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var upTo = await step.FindWindowEndAsync(db, after, cutoff, options.BatchSize, cancellationToken);
            deleted += await step.DeleteWindowAsync(db, after, upTo, cutoff, cancellationToken);
            batches++;
            if (upTo is not { } end)
            {
                return (deleted, batches);
            }

            after = end;
        }
    }
}

public sealed record PruneStepResult(string Step, int Deleted, int Batches, TimeSpan Elapsed);

public sealed record PruneResult(DateTime Threshold, IReadOnlyList<PruneStepResult> Steps, TimeSpan Elapsed)
{
    public int Deleted(string step) => Steps.Where(s => s.Step == step).Sum(s => s.Deleted);

    public override string ToString() =>
        string.Join(", ", Steps.Select(s => $"{s.Deleted} {s.Step}"))
        + $" deleted (dead rows older than {Threshold:yyyy-MM-ddTHH:mm:ssZ}) in {Elapsed.TotalSeconds:F1} s";
}
