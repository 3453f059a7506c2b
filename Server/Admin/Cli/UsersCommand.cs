using IdentityServer.Audit;
using IdentityServer.Hosting.Cli;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace IdentityServer.Admin.Cli;

/// <summary><c>users add|list|disable|enable|delete|reset-password|reset-2fa|set-role</c>: local accounts for headless setups.</summary>
internal sealed class UsersCommand(UserAdminService users, IOptions<JsonOptions> json) : ICommand
{
    /// <summary>What help says, read before the host is built (see <c>ServerCommands</c>).</summary>
    public static CommandDescription About { get; } = new("users", UsageText, RequiresSubcommand: true, Subcommands: ["add", "list", "disable", "enable", "reset-password", "reset-2fa", "delete", "set-role"]);

    public CommandDescription Description => About;

    private const string UsageText = """
        users add --username NAME [--email ADDRESS] [--password-stdin] [--admin]   create a local account
        users list [--search TEXT] [--json]                                        list accounts (--search: in user name or email)
        users disable USERNAME                                                     block sign-in, end sessions, revoke grants
        users enable USERNAME                                                      allow sign-in again (ends a lockout too)
        users delete USERNAME                                                      delete the account, its sessions, grants and consent
        users reset-password USERNAME                                              require a new password at the next sign-in
        users reset-2fa USERNAME|EMAIL                                             remove the authenticator app, recovery codes and passkeys; end sessions
        users set-role USERNAME ROLE [--remove]                                    give (or with --remove take away) a role
                    USERNAME may also be the user id; the last administrator cannot be disabled, deleted or demoted
        """;

    public async Task<int> RunAsync(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Arguments.Required(0, "a subcommand (add, list, disable, enable, delete, reset-password, reset-2fa or set-role)") switch
        {
            "add" => await AddAsync(context),
            "list" => await ListAsync(context),
            "disable" => await ChangeAsync(context, users.DisableAsync, "Disabled '{0}': sign-in blocked, sessions ended, grants revoked."),
            "enable" => await ChangeAsync(context, users.EnableAsync, "Enabled '{0}'."),
            "reset-password" => await ChangeAsync(context, users.RequirePasswordChangeAsync,
                "'{0}' must choose a new password at the next sign-in; sessions ended, grants revoked."),
            "reset-2fa" => await ChangeAsync(context, users.ResetTwoFactorAsync,
                "Two-step verification of '{0}' is reset: authenticator app, recovery codes and passkeys removed; sessions ended."),
            "delete" => await DeleteAsync(context),
            "set-role" => await SetRoleAsync(context),
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
        var search = context.Arguments.Option("search");
        var asJson = context.Arguments.Flag("json");
        context.Arguments.EnsureAllUsed(1);
        var all = (await users.SearchAsync(search, 100_000, null, context.CancellationToken)).Users;
        if (asJson)
        {
            return await CliOutput.WriteJsonAsync(context, all.Select(UserModel.From).ToList(), json.Value.SerializerOptions);
        }

        await context.Out.WriteLineAsync($"{"USERNAME",-30} {"EMAIL",-35} {"ROLE",-6} {"STATUS",-8} ID");
        foreach (var user in all)
        {
            await context.Out.WriteLineAsync(
                $"{user.UserName,-30} {user.Email ?? "-",-35} {(user.IsAdmin ? "admin" : "-"),-6} {(user.Disabled ? "disabled" : "active"),-8} {user.Id}");
        }

        return 0;
    }

    private static async Task<int> ChangeAsync(CommandContext context,
        Func<string, AdminActor, CancellationToken, Task<AdminResult<UserView>>> change, string done)
    {
        var userName = context.Arguments.Required(1, "the username");
        context.Arguments.EnsureAllUsed(2);
        var result = await change(userName, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, $"No user '{userName}'.");
        }

        await context.Out.WriteLineAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, done, result.Value!.UserName));
        return 0;
    }

    private async Task<int> DeleteAsync(CommandContext context)
    {
        var userName = context.Arguments.Required(1, "the username");
        context.Arguments.EnsureAllUsed(2);
        var result = await users.DeleteAsync(userName, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, $"No user '{userName}'.");
        }

        var deleted = result.Value!;
        await context.Out.WriteLineAsync($"Deleted '{deleted.UserName}' (id {deleted.Id}): {deleted.SessionsEnded} session(s) ended, "
            + $"{deleted.GrantsRemoved} grant(s) and {deleted.TokensRemoved} token(s) removed; audit entries kept.");
        return 0;
    }

    private async Task<int> SetRoleAsync(CommandContext context)
    {
        var userName = context.Arguments.Required(1, "the username");
        var role = context.Arguments.Required(2, "the role");
        var remove = context.Arguments.Flag("remove");
        context.Arguments.EnsureAllUsed(3);
        var result = await users.ChangeRoleAsync(userName, role, add: !remove, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, $"No user '{userName}'.");
        }

        var roles = result.Value!.Roles;
        await context.Out.WriteLineAsync($"'{result.Value.UserName}' now has the roles: {(roles.Count == 0 ? "(none)" : string.Join(", ", roles))}.");
        return 0;
    }
}
