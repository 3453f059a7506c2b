using IdentityServer.Admin.Cli;
using IdentityServer.Hosting.Cli;
using IdentityServer.Jobs;

namespace IdentityServer;

/// <summary>
/// The server's commands as help describes them, known without building the host: Program answers <c>help</c>,
/// <c>--help</c>, <c>COMMAND --help</c> and unknown commands from this list before it builds anything, so they work
/// whatever the configuration (no signing key in Production, say). Every command registered with
/// <see cref="CommandLine.AddCommand{TCommand}"/> is listed here (a test checks).
/// </summary>
public static class ServerCommands
{
    public static IReadOnlyList<CommandDescription> All { get; } =
        [AdminCommand.About, ClientsCommand.About, UsersCommand.About, PruneCommand.About];
}
