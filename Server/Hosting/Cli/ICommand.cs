namespace IdentityServer.Hosting.Cli;

/// <summary>
/// A command of the server's command line (<c>dotnet run --project Server -- NAME ...</c>). Register one with
/// <see cref="CommandLine.AddCommand{TCommand}"/>; <see cref="CommandLine"/> finds it by <see cref="Name"/>.
/// Commands are scoped: they may take scoped services (the DbContext) in their constructor.
/// </summary>
public interface ICommand
{
    /// <summary>The first argument that selects this command, for example <c>clients</c>.</summary>
    string Name { get; }

    /// <summary>One line for <c>help</c>, with the usage.</summary>
    string Usage { get; }

    /// <summary>Runs the command; returns the process exit code (0 success, 1 failure, 2 bad usage).</summary>
    Task<int> RunAsync(CommandContext context);
}

/// <summary>
/// Work that must be done before any command runs, whatever the command: the database's start-up migration, so the first
/// command on a fresh install works. A capability registers its own with <see cref="CommandLine.AddCommandPreparation{TPreparation}"/>.
/// </summary>
public interface ICommandPreparation
{
    Task PrepareAsync(CancellationToken cancellationToken);
}

/// <summary>What a command runs with: its arguments (the command name removed), the console streams and cancellation.</summary>
public sealed record CommandContext(CommandArguments Arguments, TextWriter Out, TextWriter Error, TextReader In, CancellationToken CancellationToken);

/// <summary>A usage error: the message is printed with the command's usage, and the exit code is 2.</summary>
public sealed class CommandUsageException(string message) : Exception(message);
