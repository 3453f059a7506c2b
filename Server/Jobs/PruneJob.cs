using Quartz;

namespace IdentityServer.Jobs;

/// <summary>
/// The scheduled run. Never two at once in one process; across instances the statements themselves are safe.
/// A failed run is logged and the next one starts over: every batch already committed stays done.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class PruneJob(PruneService pruning, ILogger<PruneJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        try
        {
            await pruning.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Pruning stopped by shutdown; the next run continues where it is needed");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "Pruning failed; the next run is at {NextFire:O}", context.NextFireTimeUtc);
        }
    }
}
