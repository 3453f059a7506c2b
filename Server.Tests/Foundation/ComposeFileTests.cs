using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Npgsql;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// compose.yaml cannot run here (no container engine), so it is read and checked: every setting given to the server is
/// one the server knows, with a value of the right type, and the database, key and health wiring fit together.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string Root = RepositoryPaths.Root;
    private static readonly Dictionary<string, object?> Compose = ComposeYaml.Parse(File.ReadAllText(Path.Combine(Root, "compose.yaml")));

    private static Dictionary<string, object?> Services => Mapping(Compose, "services");
    private static Dictionary<string, object?> Server => Mapping(Services, "server");
    private static Dictionary<string, object?> Postgres => Mapping(Services, "postgres");
    private static Dictionary<string, object?> Proxy => Mapping(Services, "proxy");
    private static Dictionary<string, string> ServerEnvironment => Environment(Server);

    [Fact]
    public void The_reflected_catalogue_covers_the_server_options()
    {
        foreach (var (section, type) in ServerSettings.Required)
        {
            Assert.True(ServerSettings.Sections.TryGetValue(section, out var types), $"section '{section}' was not found");
            Assert.Contains(type, types);
        }
    }

    [Fact]
    public void Every_server_setting_is_one_the_server_knows_with_a_valid_value()
    {
        var environment = ServerEnvironment;
        Assert.NotEmpty(environment);

        var problems = environment.Select(e => ServerSettings.Check(e.Key, e.Value)).OfType<string>().ToList();

        Assert.True(problems.Count == 0, string.Join(System.Environment.NewLine, problems));
    }

    [Theory]
    [InlineData("Database__Provder", "PostgreSQL")]
    [InlineData("Databse__Provider", "PostgreSQL")]
    [InlineData("Signing__Keys__first__Path", "/certs/signing.pem")]
    [InlineData("Signing__Keys__0__File", "/certs/signing.pem")]
    [InlineData("Signing__Keys", "/certs/signing.pem")]
    [InlineData("Server__Issuer__Host", "id.example.com")]
    [InlineData("Tokens__AccessTokenLifetime", "ten minutes")]
    [InlineData("Database__MigrateOnStart", "sometimes")]
    [InlineData("Database____Provider", "PostgreSQL")]
    [InlineData("ASPNETCORE_", "x")]
    [InlineData("DOTNET_ENVIRONMENT", "Production")]
    public void The_check_refuses_settings_the_server_does_not_know(string name, string value)
    {
        Assert.NotNull(ServerSettings.Check(name, value));
    }

    [Theory]
    [InlineData("database__provider", "PostgreSQL")]
    [InlineData("Database__MigrateOnStart", "false")]
    [InlineData("Signing__Keys__1__Password", "secret")]
    [InlineData("Signing__DevelopmentKeyPath", "data/keys/dev.pem")]
    [InlineData("Tokens__AccessTokenLifetime", "00:05:00")]
    [InlineData("Tokens__RefreshTokenSlidingLifetime", "${REFRESH_LIFETIME}")]
    [InlineData("Logging__LogLevel__Default", "Warning")]
    [InlineData("ASPNETCORE_URLS", "http://+:8080")]
    public void The_check_accepts_settings_the_server_knows(string name, string value)
    {
        Assert.Null(ServerSettings.Check(name, value));
    }

    [Fact]
    public void The_server_runs_in_Production_on_PostgreSQL()
    {
        var environment = ServerEnvironment;

        Assert.Equal("Production", environment["ASPNETCORE_ENVIRONMENT"]);
        var providers = typeof(DatabaseProviders).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.Contains(environment["Database__Provider"], providers);
        Assert.Equal(DatabaseProviders.PostgreSql, environment["Database__Provider"]);
    }

    [Fact]
    public void The_connection_string_points_at_the_compose_database_with_its_credentials()
    {
        var connection = new NpgsqlConnectionStringBuilder(ServerEnvironment["Database__ConnectionString"]);
        var database = Environment(Postgres);

        Assert.Equal("postgres", connection.Host);
        Assert.Equal(5432, connection.Port);
        Assert.Equal(database["POSTGRES_DB"], connection.Database);
        Assert.Equal(database["POSTGRES_USER"], connection.Username);
        Assert.Equal(database["POSTGRES_PASSWORD"], connection.Password);
        Assert.StartsWith("${POSTGRES_PASSWORD", database["POSTGRES_PASSWORD"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_issuer_is_an_absolute_https_url()
    {
        var issuer = DefaultOf(ServerEnvironment["Server__Issuer"]);

        Assert.True(Uri.TryCreate(issuer, UriKind.Absolute, out var uri), issuer);
        Assert.Equal(Uri.UriSchemeHttps, uri.Scheme);
        Assert.True(string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment), issuer);
    }

    [Fact]
    public void The_signing_key_comes_from_the_read_only_certs_mount()
    {
        var keyPath = ServerEnvironment["Signing__Keys__0__Path"];
        var mounts = Sequence(Server, "volumes").Select(v => v.Split(':')).ToList();

        Assert.Equal("/certs/signing.pem", keyPath);
        var certs = Assert.Single(mounts, m => m.Length >= 2 && keyPath.StartsWith(m[1].TrimEnd('/') + "/", StringComparison.Ordinal));
        Assert.Equal(["./certs", "/certs", "ro"], certs);
    }

    [Fact]
    public void PostgreSQL_16_keeps_its_data_in_a_volume_and_reports_health_with_pg_isready()
    {
        Assert.StartsWith("postgres:16", Scalar(Postgres, "image"), StringComparison.Ordinal);

        var volume = Assert.Single(Sequence(Postgres, "volumes"));
        var name = volume.Split(':')[0];
        Assert.Equal("/var/lib/postgresql/data", volume.Split(':')[1]);
        Assert.True(Mapping(Compose, "volumes").ContainsKey(name), $"volume '{name}' is not declared at the top level");

        var test = Sequence(Mapping(Postgres, "healthcheck"), "test");
        Assert.Equal("CMD-SHELL", test[0]);
        var database = Environment(Postgres);
        Assert.Equal($"pg_isready -U {database["POSTGRES_USER"]} -d {database["POSTGRES_DB"]}", test[1]);
    }

    [Fact]
    public void The_server_waits_for_a_healthy_database()
    {
        var dependsOn = Mapping(Server, "depends_on");

        Assert.Equal("service_healthy", Scalar(Mapping(dependsOn, "postgres"), "condition"));
    }

    [Fact]
    public void The_server_is_built_from_the_repository_root_with_a_multi_stage_dockerfile()
    {
        var build = Mapping(Server, "build");
        Assert.Equal(".", Scalar(build, "context"));
        var dockerfile = Path.Combine(Root, Scalar(build, "dockerfile"));
        Assert.True(File.Exists(dockerfile), dockerfile);

        var stages = File.ReadAllLines(dockerfile).Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, stages.Count);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 ", stages[0], StringComparison.Ordinal);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:10.0 ", stages[1], StringComparison.Ordinal);
        var text = File.ReadAllText(dockerfile);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"IdentityServer.dll\"]", text, StringComparison.Ordinal);
        // Everything the server project compiles or copies from outside Server/ must be in the image's build.
        Assert.Contains("COPY Migrations/", text, StringComparison.Ordinal);
        Assert.Contains("COPY appsettings*.json", text, StringComparison.Ordinal);
        Assert.Contains("COPY Directory.Build.props", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_server_replicas_publish_no_port_and_only_the_proxy_is_reachable()
    {
        Assert.Equal("2", Scalar(Mapping(Server, "deploy"), "replicas"));
        Assert.False(Server.ContainsKey("ports"), "the replicas must be reached through the proxy only");
        Assert.Equal(["443:443", "80:80"], Sequence(Proxy, "ports"));
        Assert.Contains("server", Sequence(Proxy, "depends_on"));
        Assert.StartsWith("nginx:", Scalar(Proxy, "image"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_proxy_config_is_committed_mounted_and_forwards_to_the_replicas_port_with_forwarded_headers()
    {
        var mounts = Sequence(Proxy, "volumes").Select(v => v.Split(':')).ToList();
        var config = Assert.Single(mounts, m => m[1] == "/etc/nginx/nginx.conf");
        Assert.Equal("ro", config[2]);
        var text = File.ReadAllText(Path.Combine(Root, config[0]));

        Assert.Contains($"server:{ServerEnvironment["ASPNETCORE_HTTP_PORTS"]};", text, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header X-Forwarded-For $remote_addr;", text, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header X-Forwarded-Proto $scheme;", text, StringComparison.Ordinal);
        // The TLS files the config names are mounted, read-only, from certs/.
        foreach (var file in new[] { "/etc/nginx/certs/tls.crt", "/etc/nginx/certs/tls.key" })
        {
            Assert.Contains(file + ";", text, StringComparison.Ordinal);
            var mount = Assert.Single(mounts, m => m[1] == file);
            Assert.StartsWith("./certs/", mount[0], StringComparison.Ordinal);
            Assert.Equal("ro", mount[2]);
        }

        // A POST already sent to a replica is never replayed on another (a redemption would look like reuse).
        Assert.DoesNotContain("non_idempotent", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Forwarded_headers_are_trusted_only_from_private_networks()
    {
        var networks = ServerEnvironment.Where(e => e.Key.StartsWith("ForwardedHeaders__KnownNetworks__", StringComparison.Ordinal)).Select(e => e.Value).ToList();

        Assert.NotEmpty(networks);
        string[] privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
        Assert.All(networks, network =>
        {
            Assert.True(System.Net.IPNetwork.TryParse(network, out var parsed), network);
            Assert.Contains(privateRanges, r => System.Net.IPNetwork.Parse(r).Contains(parsed.BaseAddress) && parsed.PrefixLength >= System.Net.IPNetwork.Parse(r).PrefixLength);
        });
    }

    /// <summary>The default of a compose <c>${NAME:-default}</c> value; any other value as it is.</summary>
    private static string DefaultOf(string value)
    {
        var match = System.Text.RegularExpressions.Regex.Match(value, @"^\$\{[A-Za-z_][A-Za-z0-9_]*:-(.+)\}$");
        return match.Success ? match.Groups[1].Value : value;
    }

    internal static Dictionary<string, string> Environment(Dictionary<string, object?> service) =>
        Mapping(service, "environment").ToDictionary(
            e => e.Key,
            e => e.Value as string ?? throw new Xunit.Sdk.XunitException($"environment entry '{e.Key}' has no value"),
            StringComparer.Ordinal);

    internal static Dictionary<string, object?> Mapping(Dictionary<string, object?> parent, string key) =>
        parent.TryGetValue(key, out var value) && value is Dictionary<string, object?> mapping
            ? mapping
            : value is null && parent.ContainsKey(key) ? new Dictionary<string, object?>(StringComparer.Ordinal)
            : throw new Xunit.Sdk.XunitException($"compose.yaml: '{key}' is missing or not a mapping");

    internal static List<string> Sequence(Dictionary<string, object?> parent, string key) =>
        parent.TryGetValue(key, out var value) && value is List<string> sequence
            ? sequence
            : throw new Xunit.Sdk.XunitException($"compose.yaml: '{key}' is missing or not a sequence");

    internal static string Scalar(Dictionary<string, object?> parent, string key) =>
        parent.TryGetValue(key, out var value) && value is string scalar
            ? scalar
            : throw new Xunit.Sdk.XunitException($"compose.yaml: '{key}' is missing or not a scalar");
}

/// <summary>
/// compose.sqlserver.yaml, the same stack on SQL Server, read the same way: it cannot run here either (and no SQL Server
/// runs on CI), so its settings and wiring are checked.
/// </summary>
public sealed class SqlServerComposeFileTests
{
    private static readonly Dictionary<string, object?> Compose =
        ComposeYaml.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "compose.sqlserver.yaml")));

    private static Dictionary<string, object?> Services => ComposeFileTests.Mapping(Compose, "services");
    private static Dictionary<string, object?> Server => ComposeFileTests.Mapping(Services, "server");
    private static Dictionary<string, object?> SqlServer => ComposeFileTests.Mapping(Services, "sqlserver");
    private static Dictionary<string, string> ServerEnvironment => ComposeFileTests.Environment(Server);

    [Fact]
    public void Every_server_setting_is_one_the_server_knows_and_the_provider_is_SQL_Server()
    {
        var problems = ServerEnvironment.Select(e => ServerSettings.Check(e.Key, e.Value)).OfType<string>().ToList();

        Assert.True(problems.Count == 0, string.Join(System.Environment.NewLine, problems));
        Assert.Equal("Production", ServerEnvironment["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal(DatabaseProviders.SqlServer, ServerEnvironment["Database__Provider"]);
    }

    [Fact]
    public void The_connection_string_points_at_the_compose_SQL_Server_with_its_sa_password()
    {
        var connection = new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(ServerEnvironment["Database__ConnectionString"]);
        var database = ComposeFileTests.Environment(SqlServer);

        Assert.Equal("sqlserver,1433", connection.DataSource);
        Assert.Equal("identity", connection.InitialCatalog);
        Assert.Equal("sa", connection.UserID);
        Assert.Equal(database["MSSQL_SA_PASSWORD"], connection.Password);
        Assert.StartsWith("${MSSQL_SA_PASSWORD:?", database["MSSQL_SA_PASSWORD"], StringComparison.Ordinal);
        // The container's certificate is self-signed; SqlClient encrypts by default and would refuse it otherwise.
        Assert.True(connection.TrustServerCertificate);
    }

    [Fact]
    public void SQL_Server_2022_accepts_the_licence_keeps_its_data_in_a_volume_and_reports_health_with_sqlcmd()
    {
        Assert.Equal("mcr.microsoft.com/mssql/server:2022-latest", ComposeFileTests.Scalar(SqlServer, "image"));
        Assert.Equal("Y", ComposeFileTests.Environment(SqlServer)["ACCEPT_EULA"]);

        var volume = Assert.Single(ComposeFileTests.Sequence(SqlServer, "volumes"));
        Assert.Equal("/var/opt/mssql", volume.Split(':')[1]);
        Assert.True(ComposeFileTests.Mapping(Compose, "volumes").ContainsKey(volume.Split(':')[0]), "the data volume is not declared at the top level");

        var test = ComposeFileTests.Sequence(ComposeFileTests.Mapping(SqlServer, "healthcheck"), "test");
        Assert.Equal("CMD-SHELL", test[0]);
        Assert.StartsWith("/opt/mssql-tools18/bin/sqlcmd -C -S localhost -U sa -P \"$${MSSQL_SA_PASSWORD}\"", test[1], StringComparison.Ordinal);
        Assert.Equal("service_healthy", ComposeFileTests.Scalar(ComposeFileTests.Mapping(ComposeFileTests.Mapping(Server, "depends_on"), "sqlserver"), "condition"));
    }

    [Fact]
    public void The_server_proxy_and_keys_are_those_of_compose_yaml()
    {
        var main = ComposeYaml.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "compose.yaml")));
        var mainServices = ComposeFileTests.Mapping(main, "services");
        var mainServer = ComposeFileTests.Mapping(mainServices, "server");

        Assert.Equal(ComposeFileTests.Mapping(mainServer, "build"), ComposeFileTests.Mapping(Server, "build"));
        Assert.Equal(ComposeFileTests.Sequence(mainServer, "volumes"), ComposeFileTests.Sequence(Server, "volumes"));
        var sameSettings = ComposeFileTests.Environment(mainServer).Where(e => !e.Key.StartsWith("Database__", StringComparison.Ordinal));
        Assert.All(sameSettings, e => Assert.Equal(e.Value, ServerEnvironment.GetValueOrDefault(e.Key)));
        Assert.Equal(ComposeFileTests.Sequence(ComposeFileTests.Mapping(mainServices, "proxy"), "volumes"),
            ComposeFileTests.Sequence(ComposeFileTests.Mapping(Services, "proxy"), "volumes"));
    }
}

/// <summary>The compose reader refuses what it does not understand instead of misreading it.</summary>
public sealed class ComposeYamlTests
{
    [Fact]
    public void It_reads_mappings_sequences_quotes_and_comments()
    {
        var yaml = ComposeYaml.Parse("""
            # a comment
            services:
              web:
                image: "nginx:1 # not a comment"   # a comment
                command: 'it''s'
                ports:
                  - "80:80"
                  - 443:443
                environment:
                  A__B: "x\"y"
                  EMPTY:
            volumes:
              data:
            """);

        var web = (Dictionary<string, object?>)((Dictionary<string, object?>)yaml["services"]!)["web"]!;
        Assert.Equal("nginx:1 # not a comment", web["image"]);
        Assert.Equal("it's", web["command"]);
        Assert.Equal(["80:80", "443:443"], (List<string>)web["ports"]!);
        var environment = (Dictionary<string, object?>)web["environment"]!;
        Assert.Equal("x\"y", environment["A__B"]);
        Assert.Null(environment["EMPTY"]);
        Assert.Null(((Dictionary<string, object?>)yaml["volumes"]!)["data"]);
    }

    [Theory]
    [InlineData("a: {b: c}")]
    [InlineData("a: [b, c]")]
    [InlineData("a: &anchor b")]
    [InlineData("a: *alias")]
    [InlineData("a: !tag b")]
    [InlineData("a: |\n  text")]
    [InlineData("a: >\n  text")]
    [InlineData("a:\n\tb: c")]
    [InlineData("a: b\na: c")]
    [InlineData("a:\n  - b: c")]
    [InlineData("a:\n  - b\n    - c")]
    [InlineData("a: b\n  c: d")]
    [InlineData("a:\n  b: c\n - d")]
    [InlineData("---\na: b")]
    [InlineData("a: \"unterminated")]
    [InlineData("a: b: c")]
    [InlineData("- a")]
    [InlineData("  a: b")]
    public void It_refuses_what_it_does_not_support(string yaml)
    {
        Assert.Throws<FormatException>(() => ComposeYaml.Parse(yaml));
    }
}
