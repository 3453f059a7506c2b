using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting.Cli;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace IdentityServer.Admin.Cli;

/// <summary><c>clients add|list|remove|rotate-secret</c>: the client registry for headless setups, with the admin API's rules.</summary>
internal sealed class ClientsCommand(ClientAdminService clients, IOptions<JsonOptions> json) : ICommand
{
    /// <summary>What help says, read before the host is built (see <c>ServerCommands</c>).</summary>
    public static CommandDescription About { get; } = new("clients", UsageText, RequiresSubcommand: true, Subcommands: ["add", "add-service-account", "list", "remove", "rotate-secret"]);

    public CommandDescription Description => About;

    private const string UsageText = """
        clients add --client-id ID [--name NAME] [--type confidential|public] [--consent explicit|implicit]
                    [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--grant-type TYPE]... [--scope NAME]...
                    [--resource URI]... [--introspect] [--serves RESOURCE]     register a client (its secret is shown once)
                    [--auth-method client_secret_basic|client_secret_post|private_key_jwt]
                    [--jwks-uri URI | --jwks-file PATH] [--require-par]        private_key_jwt: the client's public keys
                    [--require-dpop]                                           (--require-dpop: token requests need a DPoP proof)
                    a repeatable option also takes a comma- or space-separated list; the defaults are
                    --type confidential --consent explicit --grant-type authorization_code --scope openid
        clients add-service-account --client-id ID [--name NAME]              a client whose client_credentials tokens with the
                    admin scope open the admin API (for scripts; its secret is shown once)
        clients list [--json]                                                  list clients (--json: the admin API's JSON)
        clients remove CLIENT_ID                                               delete a client with its grants and tokens
        clients rotate-secret CLIENT_ID [--grace SECONDS|D.HH:MM:SS]           new secret; the old one works for the grace period
        """;

    public async Task<int> RunAsync(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Arguments.Required(0, "a subcommand (add, add-service-account, list, remove or rotate-secret)") switch
        {
            "add" => await AddAsync(context),
            "add-service-account" => await AddServiceAccountAsync(context),
            "list" => await ListAsync(context),
            "remove" => await RemoveAsync(context),
            "rotate-secret" => await RotateAsync(context),
            var other => throw new CommandUsageException($"Unknown subcommand '{other}'."),
        };
    }

    private async Task<int> AddAsync(CommandContext context)
    {
        var args = context.Arguments;
        var definition = new ClientDefinition
        {
            ClientId = args.RequiredOption("client-id"),
            DisplayName = args.Option("name"),
            ClientType = args.Option("type") ?? ClientTypes.Confidential,
            ConsentType = args.Option("consent") ?? ConsentTypes.Explicit,
            RedirectUris = args.List("redirect-uri"),
            PostLogoutRedirectUris = args.List("post-logout-redirect-uri"),
            GrantTypes = args.List("grant-type"),
            Scopes = args.List("scope"),
            Resources = args.List("resource"),
            CanIntrospect = args.Flag("introspect"),
            Settings = new ClientSettings
            {
                Resource = args.Option("serves"),
                TokenEndpointAuthMethod = args.Option("auth-method"),
                JwksUri = args.Option("jwks-uri"),
                RequirePushedAuthorizationRequests = args.Flag("require-par") ? true : null,
                DpopBoundAccessTokens = args.Flag("require-dpop") ? true : null,
            },
        };
        if (args.Option("jwks-file") is { } jwksFile)
        {
            definition.Settings.Jwks = File.Exists(jwksFile)
                ? await File.ReadAllTextAsync(jwksFile, context.CancellationToken)
                : throw new CommandUsageException($"--jwks-file: '{jwksFile}' does not exist.");
        }

        args.EnsureAllUsed(1);
        var result = await clients.CreateAsync(definition, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, "");
        }

        var created = result.Value!;
        await context.Out.WriteLineAsync($"Registered client '{created.Client.Definition.ClientId}' ({created.Client.Definition.ClientType}).");
        if (created.ClientSecret is { } secret)
        {
            await context.Out.WriteLineAsync($"Client secret (shown only now): {secret}");
        }

        return 0;
    }

    private async Task<int> AddServiceAccountAsync(CommandContext context)
    {
        var args = context.Arguments;
        var clientId = args.RequiredOption("client-id");
        var name = args.Option("name");
        args.EnsureAllUsed(1);
        var result = await clients.CreateServiceAccountAsync(clientId, name, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, "");
        }

        await context.Out.WriteLineAsync($"Registered service account '{clientId}'. Client secret (shown only now): {result.Value!.ClientSecret}");
        await context.Out.WriteLineAsync("Get a token: POST /connect/token with grant_type=client_credentials&scope=admin and this client's credentials;");
        await context.Out.WriteLineAsync("send it as Authorization: Bearer to /admin/api/... (docs/administration.md).");
        return 0;
    }

    private async Task<int> ListAsync(CommandContext context)
    {
        var asJson = context.Arguments.Flag("json");
        context.Arguments.EnsureAllUsed(1);
        var all = await clients.ListAsync(context.CancellationToken);
        if (asJson)
        {
            return await CliOutput.WriteJsonAsync(context, all.Select(c => ClientResponse.From(c)).ToList(), json.Value.SerializerOptions);
        }

        await context.Out.WriteLineAsync($"{"CLIENT_ID",-30} {"TYPE",-12} {"STATUS",-8} {"NAME",-30} REDIRECT URIS");
        foreach (var client in all)
        {
            var d = client.Definition;
            await context.Out.WriteLineAsync(
                $"{d.ClientId,-30} {d.ClientType,-12} {(client.Enabled ? "enabled" : "disabled"),-8} {d.DisplayName,-30} {string.Join(' ', d.RedirectUris)}");
        }

        return 0;
    }

    private async Task<int> RemoveAsync(CommandContext context)
    {
        var clientId = context.Arguments.Required(1, "the client_id");
        context.Arguments.EnsureAllUsed(2);
        if (!await clients.DeleteAsync(clientId, AdminActor.CommandLine, context.CancellationToken))
        {
            return await CliOutput.FailAsync(context, $"No client '{clientId}'.");
        }

        await context.Out.WriteLineAsync($"Removed client '{clientId}' with its grants and tokens.");
        return 0;
    }

    private async Task<int> RotateAsync(CommandContext context)
    {
        var clientId = context.Arguments.Required(1, "the client_id");
        var grace = CliOutput.ParseDuration(context.Arguments.Option("grace"), "grace");
        context.Arguments.EnsureAllUsed(2);
        var result = await clients.RotateSecretAsync(clientId, grace, AdminActor.CommandLine, context.CancellationToken);
        if (result.Outcome != AdminOutcome.Ok)
        {
            return await CliOutput.FailAsync(context, result, $"No client '{clientId}'.");
        }

        await context.Out.WriteLineAsync($"New client secret for '{clientId}' (shown only now): {result.Value!.ClientSecret}");
        await context.Out.WriteLineAsync(result.Value.PreviousSecretExpiresAt is { } until
            ? $"The previous secret keeps working until {until:u}."
            : "The previous secret no longer works.");
        return 0;
    }
}
