namespace IdentityServer.Hosting.Cli;

/// <summary>
/// The server's command line: <c>dotnet run --project Server -- COMMAND ...</c> runs one registered
/// <see cref="ICommand"/> against the configured database and exits, instead of starting the web server. The host is
/// built (configuration and services exactly as the server's) but not started: nothing listens. Pending migrations
/// are applied first when Database:MigrateOnStart is set, so the first command on a fresh install (admin create)
/// works. Anything that is not a registered command name (no arguments, or ASP.NET options such as --urls) runs the
/// server as usual.
/// </summary>
public static class CommandLine
{
    /// <summary>Adds a command; any capability can add its own.</summary>
    public static IServiceCollection AddCommand<TCommand>(this IServiceCollection services) where TCommand : class, ICommand =>
        services.AddScoped<ICommand, TCommand>();

    /// <summary>Adds work to run before every command (<see cref="ICommandPreparation"/>), in the order added.</summary>
    public static IServiceCollection AddCommandPreparation<TPreparation>(this IServiceCollection services) where TPreparation : class, ICommandPreparation =>
        services.AddSingleton<ICommandPreparation>(provider => provider.GetRequiredService<TPreparation>());

    /// <summary>Null when the arguments name no command (run the server); otherwise the command's exit code.</summary>
    public static async Task<int?> TryRunAsync(WebApplication app, string[] args)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!IsCommand(app.Services, args))
        {
            return null;
        }

        var exitCode = await RunAsync(app.Services, args, Console.Out, Console.Error, Console.In, CancellationToken.None);
        await app.DisposeAsync(); // flushes the logs; the process ends right after
        return exitCode;
    }

    /// <summary>Whether the first argument names a registered command (or is <c>help</c>).</summary>
    public static bool IsCommand(IServiceProvider services, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0 || args[0].StartsWith('-'))
        {
            return false;
        }

        using var scope = services.CreateScope();
        return args[0] == "help" || scope.ServiceProvider.GetServices<ICommand>().Any(c => c.Name == args[0]);
    }

    /// <summary>Runs a command in its own service scope, with the given console streams (tests pass their own).</summary>
    public static async Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> args, TextWriter output, TextWriter error, TextReader input,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        await using var scope = services.CreateAsyncScope();
        var commands = scope.ServiceProvider.GetServices<ICommand>().OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        var command = args.Count > 0 ? commands.FirstOrDefault(c => c.Name == args[0]) : null;
        if (command is null)
        {
            await output.WriteLineAsync("Commands (dotnet run --project Server -- COMMAND ...):");
            foreach (var each in commands)
            {
                await output.WriteLineAsync("  " + each.Usage.ReplaceLineEndings(Environment.NewLine + "  "));
            }

            return args.Count > 0 && args[0] == "help" ? 0 : 2;
        }

        try
        {
            var arguments = new CommandArguments(args.Skip(1));
            await PrepareAsync(scope.ServiceProvider, cancellationToken);
            return await command.RunAsync(new CommandContext(arguments, output, error, input, cancellationToken));
        }
        catch (CommandUsageException e)
        {
            await error.WriteLineAsync(e.Message);
            await error.WriteLineAsync("Usage: " + command.Usage);
            return 2;
        }
    }

    /// <summary>
    /// What every command needs first (<see cref="ICommandPreparation"/>): the server's own start-up migration
    /// (Database:MigrateOnStart, the replicas' lock, only when pending).
    /// </summary>
    private static async Task PrepareAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        foreach (var preparation in services.GetServices<ICommandPreparation>())
        {
            await preparation.PrepareAsync(cancellationToken);
        }
    }
}
