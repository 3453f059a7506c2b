namespace IdentityServer.Hosting.Cli;

/// <summary>
/// The server's command line: <c>dotnet run --project Server -- COMMAND ...</c> runs one registered
/// <see cref="ICommand"/> against the configured database and exits, instead of starting the web server. The host is
/// built (configuration and services exactly as the server's) but not started: nothing listens. Pending migrations
/// are applied first when Database:MigrateOnStart is set, so the first command on a fresh install (admin create)
/// works. Help and usage (<see cref="TryHelp"/>) need no host at all: Program answers them before building it, so they
/// work with any configuration, a missing signing key included. No arguments, or ASP.NET options first (--urls,
/// Key=Value), run the server as usual; any other first word that names no command is a usage error.
/// </summary>
public static class CommandLine
{
    /// <summary>Adds a command; any capability can add its own.</summary>
    public static IServiceCollection AddCommand<TCommand>(this IServiceCollection services) where TCommand : class, ICommand =>
        services.AddScoped<ICommand, TCommand>();

    /// <summary>Adds work to run before every command (<see cref="ICommandPreparation"/>), in the order added.</summary>
    public static IServiceCollection AddCommandPreparation<TPreparation>(this IServiceCollection services) where TPreparation : class, ICommandPreparation =>
        services.AddSingleton<ICommandPreparation>(provider => provider.GetRequiredService<TPreparation>());

    private const string Invocation = "dotnet run --project Server --";

    /// <summary>
    /// Answers help and usage errors from the command descriptions alone, before any host exists: <c>help</c>,
    /// <c>--help</c> or <c>-h</c> (optionally followed by a command name and more), <c>COMMAND --help</c>, <c>COMMAND -h</c>,
    /// <c>COMMAND help</c> and a command that needs a subcommand given alone print usage on <paramref name="output"/>
    /// and return 0; an unknown command or subcommand prints the usage on <paramref name="error"/> and returns 2. Null when the
    /// arguments run the server (none, or options first) or a command.
    /// </summary>
    public static int? TryHelp(IReadOnlyList<string> args, IReadOnlyList<CommandDescription> commands, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Count == 0)
        {
            return null;
        }

        var first = args[0];
        if (IsHelpWord(first))
        {
            if (args.Count == 1)
            {
                WriteAllUsage(output, commands);
                return 0;
            }

            if (commands.FirstOrDefault(c => c.Name == args[1]) is { } named)
            {
                WriteUsage(output, named);
                return 0;
            }

            return UnknownCommand(error, commands, args[1]);
        }

        if (first.StartsWith('-') || first.Contains('=', StringComparison.Ordinal))
        {
            return null; // the server's own options (--urls ..., Key=Value)
        }

        if (commands.FirstOrDefault(c => c.Name == first) is not { } command)
        {
            return UnknownCommand(error, commands, first);
        }

        var rest = args.Skip(1).ToList();
        if ((rest.Count == 0 && command.RequiresSubcommand) || rest.Any(a => a is "--help" or "-h") || rest is ["help", ..])
        {
            WriteUsage(output, command);
            return 0;
        }

        if (command.Subcommands is { } subcommands && rest.Count > 0 && !subcommands.Contains(rest[0], StringComparer.Ordinal))
        {
            // As the command itself would say it, but without building a host (which needs a valid configuration).
            error.WriteLine($"Unknown subcommand '{rest[0]}'.");
            WriteUsage(error, command);
            return 2;
        }

        return null;
    }

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

    /// <summary>Whether the first argument names a registered command (or asks for help).</summary>
    public static bool IsCommand(IServiceProvider services, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0)
        {
            return false;
        }

        if (IsHelpWord(args[0]))
        {
            return true;
        }

        if (args[0].StartsWith('-'))
        {
            return false;
        }

        using var scope = services.CreateScope();
        return scope.ServiceProvider.GetServices<ICommand>().Any(c => c.Name == args[0]);
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
        var descriptions = commands.Select(c => c.Description).ToList();
        if (TryHelp(args, descriptions, output, error) is { } helpExitCode)
        {
            return helpExitCode;
        }

        var command = args.Count > 0 ? commands.FirstOrDefault(c => c.Name == args[0]) : null;
        if (command is null)
        {
            WriteAllUsage(error, descriptions);
            return 2;
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
            WriteUsage(error, command.Description);
            return 2;
        }
    }

    private static bool IsHelpWord(string arg) => arg is "help" or "--help" or "-h";

    private static int UnknownCommand(TextWriter error, IReadOnlyList<CommandDescription> commands, string name)
    {
        error.WriteLine($"Unknown command '{name}'.");
        WriteAllUsage(error, commands);
        return 2;
    }

    private static void WriteUsage(TextWriter writer, CommandDescription command)
    {
        writer.WriteLine($"Usage: {Invocation} {command.Name} ...   (runs against the configured database and exits; the server does not start)");
        writer.WriteLine(Indent(command.Usage, "  "));
    }

    private static void WriteAllUsage(TextWriter writer, IReadOnlyList<CommandDescription> commands)
    {
        writer.WriteLine($"Usage: {Invocation} COMMAND ...     (no command: start the server)");
        writer.WriteLine();
        writer.WriteLine("Commands (each runs against the configured database and exits; the server does not start):");
        foreach (var command in commands.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            writer.WriteLine(Indent(command.Usage, "  "));
        }

        writer.WriteLine();
        writer.WriteLine($"'{Invocation} COMMAND --help' shows one command's usage.");
    }

    private static string Indent(string text, string indent) =>
        indent + text.TrimEnd().ReplaceLineEndings(Environment.NewLine + indent);

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
