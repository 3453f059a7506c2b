using IdentityServer.Hosting.Cli;

namespace IdentityServer.Jobs;

/// <summary>
/// <c>prune</c> on the command line (<c>dotnet run --project Server -- prune</c>): one pruning run against the configured
/// database, whether or not the schedule is enabled, then exit. The server's command line builds the host without
/// starting it, so nothing listens and it is safe next to running instances.
/// </summary>
internal sealed class PruneCommand(PruneService pruning) : ICommand
{
    /// <summary>What help says, read before the host is built (see <c>ServerCommands</c>).</summary>
    public static CommandDescription About { get; } = new("prune", UsageText, RequiresSubcommand: false);

    public CommandDescription Description => About;

    private const string UsageText = "prune   delete dead tokens, grants, revoked JWT ids and ended sessions once (the Pruning settings apply)";

    public async Task<int> RunAsync(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Arguments.Positional.Count > 0)
        {
            throw new CommandUsageException("prune takes no arguments.");
        }

        try
        {
            var result = await pruning.RunAsync(context.CancellationToken);
            await context.Out.WriteLineAsync($"Pruned: {result}");
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await context.Error.WriteLineAsync($"Pruning failed: {e.GetBaseException().Message}");
            return 1;
        }
    }
}
