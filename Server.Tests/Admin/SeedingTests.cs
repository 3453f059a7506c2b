using System.Net;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Protocol.Grants;
using IdentityServer.Tests.Foundation;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>Clients and scopes declared in configuration (root Clients and Scopes sections, and the older Seed lists).</summary>
public sealed class SeedingTests : IDisposable
{
    private const string WebSecret = "a-long-secret-from-the-environment-0123456789";

    /// <summary>The grant types the token endpoint serves (the server's own registry, as its composition fills it).</summary>
    private static readonly IGrantTypeCatalog ServedGrantTypes = new TokenGrantRegistry(
        [new(GrantTypes.AuthorizationCode), new(GrantTypes.RefreshToken), new(GrantTypes.ClientCredentials)]);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "idsrv-seed-" + Guid.NewGuid().ToString("N"));

    private static Dictionary<string, string?> Declared(string webSecret = WebSecret) => new()
    {
        ["Scopes:orders:DisplayName"] = "Your orders",
        ["Scopes:orders:Resources:0"] = "https://orders.example.com",
        ["Clients:web:Type"] = "confidential",
        ["Clients:web:ClientSecret"] = webSecret,
        ["Clients:web:ConsentType"] = "implicit",
        ["Clients:web:DisplayName"] = "Our web app",
        ["Clients:web:RedirectUris:0"] = "https://app.example.com/signin",
        ["Clients:web:GrantTypes:0"] = "authorization_code",
        ["Clients:web:GrantTypes:1"] = "client_credentials",
        ["Clients:web:Scopes:0"] = "openid",
        ["Clients:web:Scopes:1"] = "orders",
        ["Clients:web:AccessTokenLifetime"] = "00:05:00",
        ["Clients:orders-api:Type"] = "confidential",
        ["Clients:orders-api:ClientSecret"] = "another-long-secret-for-the-resource-server",
        ["Clients:orders-api:GrantTypes:0"] = "client_credentials",
        ["Clients:orders-api:CanIntrospect"] = "true",
        ["Clients:orders-api:Resource"] = "https://orders.example.com",
        ["Clients:spa:RedirectUris:0"] = "http://127.0.0.1:3000/callback",
        ["Clients:spa:Scopes:0"] = "orders",
        // The older shape still works.
        ["Seed:Clients:0:ClientId"] = "legacy",
        ["Seed:Clients:0:RedirectUris:0"] = "https://legacy.example.com/cb",
    };

    [Fact]
    public async Task Declared_clients_and_scopes_are_created_and_a_second_start_changes_nothing()
    {
        Snapshot first;
        using (var server = new ConfiguredServer(_dataDirectory, Declared()))
        {
            first = await SnapshotAsync(server);
            Assert.Equal(Strings("legacy", "orders-api", "spa", "web"), first.Applications.Select(a => a.ClientId).Order(StringComparer.Ordinal));
            var web = ClientDescriptor.From(first.Applications.Single(a => a.ClientId == "web"));
            Assert.False(web.RequiresConsent);
            Assert.Equal(TimeSpan.FromMinutes(5), web.Settings.AccessTokenLifetime);
            Assert.Equal(ClientSecrets.Hash(WebSecret), web.SecretHash);
            Assert.Equal("https://orders.example.com", ClientDescriptor.From(first.Applications.Single(a => a.ClientId == "orders-api")).ResourceIdentifier);
            Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync(server, "web", WebSecret));
            Assert.Equal(Strings("https://orders.example.com"), JsonSerializer.Deserialize<string[]>(first.Scopes.Single(s => s.Name == "orders").Resources));
            Assert.Equal(5, first.AuditEntries); // one created entry per row, by "configuration"
        }

        using (var again = new ConfiguredServer(_dataDirectory, Declared()))
        {
            var second = await SnapshotAsync(again);
            Assert.Equal(Rows(first.Applications), Rows(second.Applications));
            Assert.Equal(first.Scopes.Select(JsonOf), second.Scopes.Select(JsonOf));
            Assert.Equal(first.AuditEntries, second.AuditEntries);
        }

        // A changed secret replaces the old one, which keeps working for the grace period (as a rotation would).
        const string newSecret = "the-rotated-secret-from-the-environment-98765";
        using var rotated = new ConfiguredServer(_dataDirectory, Declared(newSecret));
        Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync(rotated, "web", newSecret));
        Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync(rotated, "web", WebSecret));
        rotated.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Unauthorized, await ClientCredentialsAsync(rotated, "web", WebSecret));
        var audit = await rotated.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Target == "client:web").Select(e => e.Action).ToListAsync());
        Assert.Equal(Strings("client.created", "client.updated"), audit.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Clients:web:ClientSecret", "too-short", "Clients:web:ClientSecret", "32")]
    [InlineData("Clients:web:ClientSecret", null, "Clients:web:ClientSecret", "environment variable")]
    [InlineData("Clients:web:Type", "public", "Clients:web:ClientSecret", "public client")]
    [InlineData("Clients:web:RedirectUris:0", "http://app.example.com/cb", "Clients:web:RedirectUris", "127.0.0.1")]
    [InlineData("Clients:web:GrantTypes:1", "password", "Clients:web:GrantTypes", "password")]
    [InlineData("Clients:web:AccessTokenLifetime", "3.00:00:00", "Clients:web:AccessTokenLifetime", "access_token_lifetime")]
    [InlineData("Clients:web:ClientId", "not valid!", "Clients:web:ClientId", "client_id")]
    [InlineData("Scopes:orders:Resources:0", "orders", "Scopes:orders:Resources", "RFC 8707")]
    [InlineData("Scopes:orders:Name", "openid", "Scopes:orders:Name", "built-in")]
    [InlineData("Seed:Clients:0:ClientId", "web", "Seed:Clients:0", "declared twice")]
    public void A_declaration_that_breaks_a_rule_stops_startup_naming_the_setting(string key, string? value, string setting, string explanation)
    {
        var settings = Declared();
        settings[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var error = Assert.Throws<StartupConfigurationException>(() => ClientSeedOptions.Read(configuration, ServedGrantTypes));

        Assert.Equal(setting, error.Setting);
        Assert.Contains(explanation, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"Configuration error in '{setting}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_declared_secret_never_reaches_a_log_or_an_audit_detail()
    {
        // The audit details are the definition's JSON; the secret is [JsonIgnore] in it.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Declared()).Build();
        var web = ClientSeedOptions.Read(configuration, ServedGrantTypes).Clients.Single(c => c.ClientId == "web");

        var details = JsonSerializer.Serialize(web.ToDefinition());

        Assert.DoesNotContain(WebSecret, details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_declared_with_an_unknown_scope_stops_the_server_with_one_line_naming_the_setting()
    {
        // Scopes are checked at start, against the database; the real process shows how an operator sees it.
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Database__DataDirectory"] = _dataDirectory,
            ["Clients__web__RedirectUris__0"] = "https://app.example.com/signin",
            ["Clients__web__Scopes__0"] = "openid",
            ["Clients__web__Scopes__1"] = "no-such-scope",
        };
        Directory.CreateDirectory(_dataDirectory);

        using var server = ServerProcess.Start(environment, _dataDirectory);
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 1, $"exit code {exitCode}, stderr: {server.StandardError}, stdout: {server.StandardOutput}");
        var line = Assert.Single(server.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("Configuration error in 'Clients:web:Scopes':", line, StringComparison.Ordinal);
        Assert.Contains("no-such-scope", line, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private sealed record Snapshot(List<OAuthApplication> Applications, List<OAuthScope> Scopes, int AuditEntries);

    private static Task<Snapshot> SnapshotAsync(ServerFactory server) => server.WithDatabaseAsync(async db => new Snapshot(
        await db.Applications.AsNoTracking().OrderBy(a => a.ClientId).ToListAsync(),
        await db.Scopes.AsNoTracking().OrderBy(s => s.Name).ToListAsync(),
        await db.AuditEntries.CountAsync(e => e.ActorId == "configuration")));

    private static IEnumerable<string> Rows(IEnumerable<OAuthApplication> rows) => rows.Select(JsonOf);

    private static string JsonOf<T>(T row) => JsonSerializer.Serialize(row);

    private static async Task<HttpStatusCode> ClientCredentialsAsync(ServerFactory server, string clientId, string secret)
    {
        var (status, _, _) = await OAuthFlow.PostTokenAsync(server.CreateClient(), new TestClient(clientId, secret, "", ""), new() { ["grant_type"] = "client_credentials" });
        return status;
    }

    /// <summary>A host with declared clients, on a data directory that a later host may reuse.</summary>
    private sealed class ConfiguredServer(string dataDirectory, Dictionary<string, string?> settings) : ServerFactory(dataDirectory)
    {
        protected override bool OwnsDataDirectory => false; // the test deletes it at the end

        protected override IDictionary<string, string?> Settings => settings;
    }
}
