using IdentityServer.Audit;
using IdentityServer.Hosting.Cli;

namespace IdentityServer.Admin.Cli;

/// <summary>
/// <c>admin create</c> makes the first administrator (the bootstrap: nobody can use the admin pages or API before);
/// <c>admin grant</c> makes an existing account an administrator.
/// </summary>
internal sealed class AdminCommand(UserAdminService users) : ICommand
{
    /// <summary>What help says, read before the host is built (see <c>ServerCommands</c>).</summary>
    public static CommandDescription About { get; } = new("admin", UsageText, RequiresSubcommand: true, Subcommands: ["create", "grant"]);

    public CommandDescription Description => About;

    private const string UsageText = """
        admin create --username NAME [--email ADDRESS] [--password-stdin]   create an administrator (a password is generated unless given on stdin)
        admin grant USERNAME                                                 make an existing account an administrator
        """;

    public async Task<int> RunAsync(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Arguments.Required(0, "a subcommand (create or grant)") switch
        {
            "create" => await CreateAsync(context),
            "grant" => await GrantAsync(context),
            var other => throw new CommandUsageException($"Unknown subcommand '{other}'."),
        };
    }

    private async Task<int> CreateAsync(CommandContext context)
    {
        var args = context.Arguments;
        var userName = args.RequiredOption("username");
        var email = args.Option("email");
        var password = await CliOutput.ReadPasswordAsync(context);
        args.EnsureAllUsed(1);
        var result = await users.CreateAsync(userName, email, password, admin: true, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, "");
        }

        await context.Out.WriteLineAsync($"Created administrator '{result.Value!.User.UserName}' (id {result.Value.User.Id}).");
        if (result.Value.GeneratedPassword is { } generated)
        {
            await context.Out.WriteLineAsync($"Password (shown only now): {generated}");
        }

        return 0;
    }

    private async Task<int> GrantAsync(CommandContext context)
    {
        var userName = context.Arguments.Required(1, "the username");
        context.Arguments.EnsureAllUsed(2);
        var result = await users.GrantAdminAsync(userName, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, $"No user '{userName}'.");
        }

        await context.Out.WriteLineAsync($"'{result.Value!.UserName}' is an administrator.");
        return 0;
    }
}
