using IdentityServer.Audit;
using IdentityServer.Hosting.Cli;

namespace IdentityServer.Admin.Cli;

/// <summary><c>users add|list|disable</c>: local accounts for headless setups.</summary>
internal sealed class UsersCommand(UserAdminService users) : ICommand
{
    /// <summary>What help says, read before the host is built (see <c>ServerCommands</c>).</summary>
    public static CommandDescription About { get; } = new("users", UsageText, RequiresSubcommand: true);

    public CommandDescription Description => About;

    private const string UsageText = """
        users add --username NAME [--email ADDRESS] [--password-stdin] [--admin]   create a local account
        users list                                                                 list accounts
        users disable USERNAME                                                     block sign-in, end sessions, revoke grants
        """;

    public async Task<int> RunAsync(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Arguments.Required(0, "a subcommand (add, list or disable)") switch
        {
            "add" => await AddAsync(context),
            "list" => await ListAsync(context),
            "disable" => await DisableAsync(context),
            var other => throw new CommandUsageException($"Unknown subcommand '{other}'."),
        };
    }

    private async Task<int> AddAsync(CommandContext context)
    {
        var args = context.Arguments;
        var userName = args.RequiredOption("username");
        var email = args.Option("email");
        var admin = args.Flag("admin");
        var password = await CliOutput.ReadPasswordAsync(context);
        args.EnsureAllUsed(1);
        var result = await users.CreateAsync(userName, email, password, admin, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, "");
        }

        await context.Out.WriteLineAsync($"Created user '{result.Value!.User.UserName}' (id {result.Value.User.Id}){(admin ? " as an administrator" : "")}.");
        if (result.Value.GeneratedPassword is { } generated)
        {
            await context.Out.WriteLineAsync($"Password (shown only now): {generated}");
        }

        return 0;
    }

    private async Task<int> ListAsync(CommandContext context)
    {
        context.Arguments.EnsureAllUsed(1);
        var all = await users.ListAsync(context.CancellationToken);
        await context.Out.WriteLineAsync($"{"USERNAME",-30} {"EMAIL",-35} {"ROLE",-6} {"STATUS",-8} ID");
        foreach (var user in all)
        {
            await context.Out.WriteLineAsync(
                $"{user.UserName,-30} {user.Email ?? "-",-35} {(user.IsAdmin ? "admin" : "-"),-6} {(user.Disabled ? "disabled" : "active"),-8} {user.Id}");
        }

        return 0;
    }

    private async Task<int> DisableAsync(CommandContext context)
    {
        var userName = context.Arguments.Required(1, "the username");
        context.Arguments.EnsureAllUsed(2);
        var result = await users.DisableAsync(userName, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, $"No user '{userName}'.");
        }

        await context.Out.WriteLineAsync($"Disabled '{result.Value!.UserName}': sign-in blocked, sessions ended, grants revoked.");
        return 0;
    }
}
