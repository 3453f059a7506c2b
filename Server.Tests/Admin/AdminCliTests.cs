using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityServer.Admin;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting.Cli;
using IdentityServer.Tests.Foundation;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>The command line: in process against the shared test server's database, and once as the real process.</summary>
[Collection(AdminServer.Name)]
public sealed partial class AdminCliTests(SqliteServer server)
{
    [Fact]
    public async Task Admin_create_makes_an_administrator_who_can_sign_in_with_the_printed_password()
    {
        var name = "boss" + Guid.NewGuid().ToString("N")[..8];

        var run = await RunAsync("admin", "create", "--username", name, "--email", name + "@example.com");

        Assert.Equal(0, run.ExitCode);
        var password = SecretLine().Match(run.Out).Groups["value"].Value;
        Assert.True(password.Length >= 20, run.Out);
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.FindByNameAsync(name);
        Assert.NotNull(user);
        Assert.True(await users.IsInRoleAsync(user, AdminRoles.Admin));
        Assert.True(await users.CheckPasswordAsync(user, password));
        Assert.True(user.EmailConfirmed);
        var audit = await server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Target == "user:" + user.Id).ToListAsync());
        Assert.Contains(audit, e => e.Action == "user.admin_granted" && e.ActorId.StartsWith("cli:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Users_add_list_and_disable()
    {
        var name = "ann" + Guid.NewGuid().ToString("N")[..8];

        var add = await RunAsync(["users", "add", "--username", name, "--password-stdin"], input: "a long enough password\n");
        Assert.Equal(0, add.ExitCode);
        Assert.DoesNotContain("Password", add.Out, StringComparison.Ordinal); // given, so not printed
        var list = await RunAsync("users", "list");
        Assert.Matches($@"(?m)^{name}\s+-\s+-\s+active\s", list.Out);

        var disable = await RunAsync("users", "disable", name);
        Assert.Equal(0, disable.ExitCode);
        Assert.Matches($@"(?m)^{name}\s+-\s+-\s+disabled\s", (await RunAsync("users", "list")).Out);
        using var browser = new BrowserSession(server);
        var signIn = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login"), name, "a long enough password");
        Assert.Contains("did not work", await signIn.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(1, (await RunAsync("users", "disable", "no-such-user")).ExitCode);
        var duplicate = await RunAsync(["users", "add", "--username", name, "--password-stdin"], input: "another long password\n");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("already taken", duplicate.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clients_add_list_rotate_secret_and_remove()
    {
        var clientId = "cli-" + Guid.NewGuid().ToString("N")[..8];

        var add = await RunAsync("clients", "add", "--client-id", clientId, "--name", "Made on the command line",
            "--redirect-uri", "https://cli.example.com/cb", "--grant-type", "authorization_code,client_credentials", "--scope", "openid profile");
        Assert.Equal(0, add.ExitCode);
        var secret = SecretLine().Match(add.Out).Groups["value"].Value;
        Assert.Equal(43, secret.Length);
        Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync(clientId, secret));
        var row = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        Assert.Equal(ClientSecrets.Hash(secret), row.ClientSecretHash);
        Assert.Equal(Strings("openid", "profile"), ClientDescriptor.From(row).Scopes.Order(StringComparer.Ordinal));

        Assert.Matches($@"(?m)^{clientId}\s+confidential\s+enabled\s+Made on the command line\s+https://cli\.example\.com/cb", (await RunAsync("clients", "list")).Out);

        var rotate = await RunAsync("clients", "rotate-secret", clientId, "--grace", "0");
        Assert.Equal(0, rotate.ExitCode);
        var newSecret = SecretLine().Match(rotate.Out).Groups["value"].Value;
        Assert.Contains("no longer works", rotate.Out, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync(clientId, newSecret));
        Assert.Equal(HttpStatusCode.Unauthorized, await ClientCredentialsAsync(clientId, secret));

        Assert.Equal(0, (await RunAsync("clients", "remove", clientId)).ExitCode);
        Assert.False(await server.WithDatabaseAsync(db => db.Applications.AnyAsync(a => a.ClientId == clientId)));
        Assert.Equal(1, (await RunAsync("clients", "remove", clientId)).ExitCode);
    }

    [Fact]
    public async Task The_command_line_applies_the_api_rules_and_reports_usage_errors()
    {
        var invalid = await RunAsync("clients", "add", "--client-id", "cli-bad", "--redirect-uri", "http://cli.example.com/cb");
        Assert.Equal(1, invalid.ExitCode);
        Assert.StartsWith("invalid_redirect_uri:", invalid.Error, StringComparison.Ordinal);

        var unknownOption = await RunAsync("clients", "add", "--client-id", "cli-x", "--redirect-url", "https://a.example/cb");
        Assert.Equal(2, unknownOption.ExitCode);
        Assert.Contains("Unknown option --redirect-url", unknownOption.Error, StringComparison.Ordinal);
        Assert.Contains("Usage:", unknownOption.Error, StringComparison.Ordinal);

        Assert.Equal(2, (await RunAsync("clients", "explode")).ExitCode);
        Assert.Equal(2, (await RunAsync("admin", "create")).ExitCode); // --username is required
        var help = await RunAsync("help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("clients rotate-secret", help.Out, StringComparison.Ordinal);
        Assert.Contains("users disable", help.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clients_add_without_scopes_gives_the_client_openid()
    {
        var clientId = "cli-" + Guid.NewGuid().ToString("N")[..8];

        var add = await RunAsync("clients", "add", "--client-id", clientId, "--redirect-uri", "https://cli.example.com/cb");

        Assert.Equal(0, add.ExitCode);
        var row = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        Assert.Equal(Strings("openid"), ClientDescriptor.From(row).Scopes);
        Assert.Equal(Strings(GrantTypes.AuthorizationCode), ClientDescriptor.From(row).GrantTypes);
    }

    [Theory]
    [InlineData("clients", "clients rotate-secret")]
    [InlineData("users", "users disable")]
    [InlineData("admin", "admin grant")]
    [InlineData("clients --help", "clients rotate-secret")]
    [InlineData("clients add -h", "clients rotate-secret")]
    [InlineData("clients help", "clients rotate-secret")]
    [InlineData("help users", "users disable")]
    [InlineData("help clients add", "clients rotate-secret")]
    [InlineData("prune --help", "prune ")]
    public async Task A_command_group_alone_or_with_help_prints_its_usage_and_does_nothing(string args, string expected)
    {
        var run = await RunAsync(args.Split(' '));

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(expected, run.Out, StringComparison.Ordinal);
        Assert.StartsWith("Usage", run.Out, StringComparison.Ordinal);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public async Task An_unknown_command_prints_the_usage_as_an_error()
    {
        var run = await RunAsync("frobnicate");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("Unknown command 'frobnicate'.", run.Error, StringComparison.Ordinal);
        Assert.Contains("clients rotate-secret", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
        Assert.Equal(2, (await RunAsync("help", "frobnicate")).ExitCode);
    }

    [Fact]
    public void Help_needs_no_host_and_leaves_the_server_and_the_commands_alone()
    {
        int? Help(params string[] args) => CommandLine.TryHelp(args, ServerCommands.All, TextWriter.Null, TextWriter.Null);

        Assert.Null(Help());
        Assert.Null(Help("--urls", "http://127.0.0.1:5005"));
        Assert.Null(Help("Server:Issuer=https://id.example.com"));
        Assert.Null(Help("clients", "list"));
        Assert.Null(Help("prune")); // prune alone runs
        Assert.Equal(0, Help("--help"));
        Assert.Equal(0, Help("-h"));
        Assert.Equal(0, Help("help"));
        Assert.Equal(0, Help("users"));
        Assert.Equal(2, Help("frobnicate"));
        // An unknown subcommand is a usage error before any host: it needs no valid configuration either.
        Assert.Equal(2, Help("users", "frobnicate"));
        Assert.Equal(2, Help("clients", "create"));
        Assert.Null(Help("clients", "add-service-account", "--client-id", "x"));
        Assert.Null(Help("admin", "create", "--username", "x"));
    }

    [Fact]
    public void The_catalog_help_reads_before_the_host_is_built_lists_every_registered_command()
    {
        using var scope = server.Services.CreateScope();
        var registered = scope.ServiceProvider.GetServices<ICommand>().Select(c => c.Description).OrderBy(d => d.Name, StringComparer.Ordinal);

        Assert.Equal(registered, ServerCommands.All.OrderBy(d => d.Name, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Help_and_usage_work_in_the_real_process_in_production_without_a_signing_key()
    {
        var folder = Directory.CreateTempSubdirectory("idsrv-cli-").FullName;
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                // Production requires an issuer; the signing key is what this test leaves out.
                ["Server__Issuer"] = "https://id.example.com",
                ["Database__DataDirectory"] = Path.Combine(folder, "data"),
            };
            string[][] helps = [["--help"], ["-h"], ["help"], ["clients"], ["users"], ["admin"], ["prune", "--help"], ["clients", "add", "--help"]];
            var runs = await Task.WhenAll(helps.Select(args => RunProcessAsync(environment, folder, args)));
            foreach (var (run, args) in runs.Zip(helps))
            {
                Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Error}");
                Assert.StartsWith("Usage", run.Out, StringComparison.Ordinal);
                Assert.Contains(args[0] is "--help" or "-h" or "help" ? "users disable" : args[0] + " ", run.Out, StringComparison.Ordinal);
            }

            var unknown = await RunProcessAsync(environment, folder, "frobnicate");
            Assert.Equal(2, unknown.ExitCode);
            Assert.StartsWith("Unknown command 'frobnicate'.", unknown.Error, StringComparison.Ordinal);
            Assert.Contains("clients add", unknown.Error, StringComparison.Ordinal);
            var unknownSubcommand = await RunProcessAsync(environment, folder, "clients", "create");
            Assert.Equal(2, unknownSubcommand.ExitCode);
            Assert.StartsWith("Unknown subcommand 'create'.", unknownSubcommand.Error, StringComparison.Ordinal);
            Assert.Contains("clients add", unknownSubcommand.Error, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(folder, "data")), "help touched the database");

            // A real command still needs the key, and says so in one line.
            var list = await RunProcessAsync(environment, folder, "clients", "list");
            Assert.Equal(1, list.ExitCode);
            Assert.StartsWith("Configuration error in 'Signing:Keys'", list.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Only_a_registered_command_name_turns_the_server_into_a_command()
    {
        Assert.True(CommandLine.IsCommand(server.Services, ["clients", "list"]));
        Assert.True(CommandLine.IsCommand(server.Services, ["admin"]));
        Assert.False(CommandLine.IsCommand(server.Services, []));
        Assert.False(CommandLine.IsCommand(server.Services, ["--urls", "http://127.0.0.1:5005"]));
        Assert.False(CommandLine.IsCommand(server.Services, ["Server:Issuer=https://id.example.com"]));
    }

    [Fact]
    public async Task The_built_server_bootstraps_an_admin_on_a_fresh_database_and_exits()
    {
        var folder = Directory.CreateTempSubdirectory("idsrv-cli-").FullName;
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["Database__DataDirectory"] = Path.Combine(folder, "data"),
                ["Signing__DevelopmentKeyPath"] = Path.Combine(folder, "keys", "signing.pem"),
            };
            var create = await RunProcessAsync(environment, folder, "admin", "create", "--username", "root-admin");
            Assert.Equal(0, create.ExitCode);
            Assert.Contains("Created administrator 'root-admin'", create.Out, StringComparison.Ordinal);

            // Read back from the database file the process left behind.
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(folder, "data", "identity.db")};Pooling=False");
            await connection.OpenAsync();
            await using var query = connection.CreateCommand();
            query.CommandText = "SELECT r.Name FROM AspNetUsers u JOIN AspNetUserRoles ur ON ur.UserId = u.Id JOIN AspNetRoles r ON r.Id = ur.RoleId WHERE u.UserName = 'root-admin'";
            Assert.Equal(AdminRoles.Admin, await query.ExecuteScalarAsync());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Users_enable_set_role_reset_password_delete_and_list_as_json()
    {
        var name = "cli" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await RunAsync(["users", "add", "--username", name, "--email", name + "@example.com", "--password-stdin"], input: TestData.Password + "\n")).ExitCode);
        Assert.Equal(0, (await RunAsync("users", "disable", name)).ExitCode);

        var enable = await RunAsync("users", "enable", name);
        Assert.Equal(0, enable.ExitCode);
        Assert.Contains($"Enabled '{name}'", enable.Out, StringComparison.Ordinal);

        var role = await RunAsync("users", "set-role", name, "editor");
        Assert.Equal(0, role.ExitCode);
        Assert.Contains("editor", role.Out, StringComparison.Ordinal);
        var json = await RunAsync("users", "list", "--search", name, "--json");
        Assert.Equal(0, json.ExitCode);
        var listed = System.Text.Json.JsonDocument.Parse(json.Out).RootElement.EnumerateArray().Single();
        Assert.Equal(name, listed.GetProperty("username").GetString());
        Assert.Equal(Strings("editor"), listed.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray());
        Assert.False(listed.GetProperty("disabled").GetBoolean());
        Assert.Equal(0, (await RunAsync("users", "set-role", name, "editor", "--remove")).ExitCode);
        Assert.False(await server.WithDatabaseAsync(db => db.UserRoles.AnyAsync(r => db.Users.Any(u => u.Id == r.UserId && u.UserName == name))));

        var reset = await RunAsync("users", "reset-password", name);
        Assert.Equal(0, reset.ExitCode);
        Assert.NotNull(await server.WithDatabaseAsync(db => db.Users.Where(u => u.UserName == name).Select(u => u.PasswordChangeRequiredAt).SingleAsync()));

        var id = await server.WithDatabaseAsync(db => db.Users.Where(u => u.UserName == name).Select(u => u.Id).SingleAsync());
        var delete = await RunAsync("users", "delete", name);
        Assert.Equal(0, delete.ExitCode);
        Assert.Contains("audit entries kept", delete.Out, StringComparison.Ordinal);
        Assert.False(await server.WithDatabaseAsync(db => db.Users.AnyAsync(u => u.UserName == name)));
        var audit = await server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Target == "user:" + id).Select(e => e.Action).ToListAsync());
        Assert.Superset(new HashSet<string> { "user.enabled", "user.role_added", "user.role_removed", "user.password_reset_required", "user.deleted" }, audit.ToHashSet());

        foreach (var subcommand in Strings("enable", "delete", "reset-password"))
        {
            var missing = await RunAsync("users", subcommand, name);
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains($"No user '{name}'", missing.Error, StringComparison.Ordinal);
        }

        Assert.Equal(1, (await RunAsync("users", "set-role", name, "editor")).ExitCode);
        Assert.Equal(2, (await RunAsync("users", "set-role", "someone")).ExitCode);
    }

    [Fact]
    public async Task Users_reset_2fa_removes_every_second_factor_and_ends_the_sessions()
    {
        var user = await TestData.CreateUserAsync(server);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var stored = (await users.FindByIdAsync(user.Id))!;
            await users.ResetAuthenticatorKeyAsync(stored);
            await users.SetTwoFactorEnabledAsync(stored, true);
            await users.GenerateNewTwoFactorRecoveryCodesAsync(stored, 10);
            Assert.True((await users.AddOrUpdatePasskeyAsync(stored, new UserPasskeyInfo(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
                [1, 2, 3], DateTimeOffset.UtcNow, 0, ["usb"], true, false, false, [0xa0], "{}"u8.ToArray())
            { Name = "Key" })).Succeeded);
        }

        var stampBefore = await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.SecurityStamp).SingleAsync());

        // By email address (the person's own, as support would be told it).
        var run = await RunAsync("users", "reset-2fa", user.Email!);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"Two-step verification of '{user.UserName}' is reset", run.Out, StringComparison.Ordinal);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var stored = (await users.FindByIdAsync(user.Id))!;
            Assert.False(await users.GetTwoFactorEnabledAsync(stored));
            Assert.Equal(0, await users.CountRecoveryCodesAsync(stored));
            Assert.Empty(await users.GetPasskeysAsync(stored));
            Assert.NotEqual(stampBefore, stored.SecurityStamp);
        }

        var audit = await server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Target == "user:" + user.Id).Select(e => e.Action).ToListAsync());
        Assert.Contains("user.two_factor_reset", audit);
        var missing = await RunAsync("users", "reset-2fa", "nobody-" + Guid.NewGuid().ToString("N") + "@example.com");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("No user", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clients_list_as_json_is_the_admin_apis_shape()
    {
        var clientId = "json-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await RunAsync("clients", "add", "--client-id", clientId, "--redirect-uri", "https://json.example.com/cb")).ExitCode);

        var run = await RunAsync("clients", "list", "--json");

        Assert.Equal(0, run.ExitCode);
        var client = System.Text.Json.JsonDocument.Parse(run.Out).RootElement.EnumerateArray().Single(c => c.GetProperty("client_id").GetString() == clientId);
        Assert.Equal(Strings("https://json.example.com/cb"), client.GetProperty("redirect_uris").EnumerateArray().Select(u => u.GetString()!).ToArray());
        Assert.True(client.GetProperty("enabled").GetBoolean());
        Assert.True(client.GetProperty("has_secret").GetBoolean());
        Assert.False(client.TryGetProperty("client_secret", out var secret) && secret.ValueKind == System.Text.Json.JsonValueKind.String);
    }

    private sealed record Run(int ExitCode, string Out, string Error);

    [Fact]
    public async Task A_service_account_from_the_cli_uses_the_admin_api_with_client_credentials_until_disabled()
    {
        var clientId = "ops-script-" + Guid.NewGuid().ToString("N")[..8];

        var run = await RunAsync("clients", "add-service-account", "--client-id", clientId);

        Assert.Equal(0, run.ExitCode);
        var secret = SecretLine().Match(run.Out).Groups["value"].Value;
        var http = server.CreateClient();
        var (status, body, _) = await OAuthFlow.PostTokenAsync(http, new TestClient(clientId, secret, "", ""),
            new() { ["grant_type"] = "client_credentials", ["scope"] = "admin" });
        Assert.Equal(HttpStatusCode.OK, status);
        var api = new AdminApi(server.CreateClient(), body.GetProperty("access_token").GetString(), new ApplicationUser());

        // It administers, and its changes are audited under its own name.
        var newClient = AdminApi.WebClient();
        var created = await api.PostAsync("/admin/api/clients", newClient);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var createdId = (string)newClient["client_id"]!;
        var audit = await server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking()
            .Where(e => e.Target == "client:" + createdId && e.Action == "client.created").ToListAsync());
        Assert.Equal(clientId, Assert.Single(audit).ActorId);
        Assert.Contains(await server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Target == "client:" + clientId).ToListAsync()),
            e => e.Action == "client.service_account_created" && e.ActorId.StartsWith("cli:", StringComparison.Ordinal));

        // An admin edit of the service account keeps what makes it one (the API cannot grant it, nor take it away by accident).
        var admin = await AdminApi.SharedAsync(server);
        var definition = (await admin.GetAsync("/admin/api/clients/" + clientId)).Body;
        var edit = JsonSerializer.Deserialize<Dictionary<string, object?>>(definition.GetRawText())!;
        edit["client_name"] = "Nightly export";
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/admin/api/clients/" + clientId, edit)).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/admin/api/clients")).Status);

        // Disabled, its token stops working at once.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/admin/api/clients/{clientId}/disable")).Status);
        Assert.NotEqual(HttpStatusCode.OK, (await api.GetAsync("/admin/api/clients")).Status);
    }

    private Task<Run> RunAsync(params string[] args) => RunAsync(args, input: "");

    private async Task<Run> RunAsync(string[] args, string input)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var reader = new StringReader(input);
        var exitCode = await CommandLine.RunAsync(server.Services, args, output, error, reader, CancellationToken.None);
        return new Run(exitCode, output.ToString(), error.ToString());
    }

    private static async Task<Run> RunProcessAsync(Dictionary<string, string> environment, string folder, params string[] args)
    {
        using var process = ServerProcess.Start(environment, folder, args);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode is not null, "The command did not exit: " + process.StandardError);
        return new Run(exitCode.Value, process.StandardOutput, process.StandardError);
    }

    private async Task<HttpStatusCode> ClientCredentialsAsync(string clientId, string secret)
    {
        var (status, _, _) = await OAuthFlow.PostTokenAsync(server.CreateClient(), new TestClient(clientId, secret, "", ""), new() { ["grant_type"] = "client_credentials" });
        return status;
    }

    [GeneratedRegex(@"\(shown only now\): (?<value>\S+)")]
    private static partial Regex SecretLine();
}
