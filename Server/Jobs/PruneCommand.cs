namespace IdentityServer.Jobs;

/// <summary>
/// <c>prune</c> on the command line (<c>dotnet run --project Server -- prune</c>): one pruning run against the configured
/// database, whether or not the schedule is enabled, then exit. The host is built but not started: nothing listens and
/// no migration runs, so it is safe next to running servers.
/// </summary>
public static class PruneCommand
{
    public const string Name = "prune";

    /// <summary>Null when the arguments do not ask for the command; otherwise runs it and returns the exit code.</summary>
    public static async Task<int?> TryRunAsync(WebApplication app, string[] args)
    {
        if (args.Length == 0 || !string.Equals(args[0], Name, StringComparison.Ordinal))
        {
            return null;
        }

        int exitCode;
        try
        {
            var result = await app.Services.GetRequiredService<PruneService>().RunAsync(CancellationToken.None);
            await Console.Out.WriteLineAsync($"Pruned: {result}");
            exitCode = 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await Console.Error.WriteLineAsync($"Pruning failed: {e.GetBaseException().Message}");
            exitCode = 1;
        }

        // Flushes the logs; the process ends right after.
        await app.DisposeAsync();
        return exitCode;
    }
}
