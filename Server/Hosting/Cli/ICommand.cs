namespace IdentityServer.Hosting.Cli;

/// <summary>
/// A command of the server's command line (<c>dotnet run --project Server -- NAME ...</c>). Register one with
/// <see cref="CommandLine.AddCommand{TCommand}"/>; <see cref="CommandLine"/> finds it by <see cref="Name"/>.
/// Commands are scoped: they may take scoped services (the DbContext) in their constructor.
/// </summary>
public interface ICommand
{
    /// <summary>
    /// Its name and usage. Keep it in a static property as well, so the composition root can list it in the
    /// command catalog that help and usage read before the host is built.
    /// </summary>
    CommandDescription Description { get; }

    /// <summary>The first argument that selects this command, for example <c>clients</c>.</summary>
    string Name => Description.Name;

    /// <summary>The usage lines shown by <c>help</c>.</summary>
    string Usage => Description.Usage;

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

/// <summary>
/// What help and usage say about a command, without building the host (no database, no signing key):
/// <paramref name="Name"/> selects it, <paramref name="Usage"/> is its usage lines. A command that
/// <paramref name="RequiresSubcommand"/> prints its usage when given nothing else (<c>clients</c> alone); one that lists
/// its <paramref name="Subcommands"/> has any other second word refused as a usage error, before the host is built.
/// </summary>
public sealed record CommandDescription(string Name, string Usage, bool RequiresSubcommand, IReadOnlyList<string>? Subcommands = null)
{
    // Compared by their names, not by list reference (the catalog and the registered commands must agree).
    public bool Equals(CommandDescription? other) =>
        other is not null && Name == other.Name && Usage == other.Usage && RequiresSubcommand == other.RequiresSubcommand
        && (Subcommands ?? []).SequenceEqual(other.Subcommands ?? []);

    public override int GetHashCode() => HashCode.Combine(Name, Usage, RequiresSubcommand);
}

/// <summary>What a command runs with: its arguments (the command name removed), the console streams and cancellation.</summary>
public sealed record CommandContext(CommandArguments Arguments, TextWriter Out, TextWriter Error, TextReader In, CancellationToken CancellationToken);

/// <summary>A usage error: the message is printed with the command's usage, and the exit code is 2.</summary>
public sealed class CommandUsageException(string message) : Exception(message);
