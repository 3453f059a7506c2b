using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// The real server binary, started as an operator would start it. Bad configuration must end the process with exit
/// code 1 and one plain line on stderr naming the setting; good configuration must answer discovery within seconds.
/// </summary>
public sealed class StartupProcessTests : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder _folder = new("idsrv-process-");

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string, string, string> BadConfigurations => new()
    {
        { "unknown database provider", "Database__Provider=Oracle", "Database:Provider" },
        { "PostgreSQL without a connection string", "Database__Provider=PostgreSQL", "Database:ConnectionString" },
        { "SQL Server without a connection string", "Database__Provider=SqlServer", "Database:ConnectionString" },
        { "unreadable key file", "Signing__Keys__0__Path={folder}/missing-key.pem", "Signing:Keys:0:Path" },
        { "issuer that is not an absolute URL", "Server__Issuer=not-a-url", "Server:Issuer" },
        { "Production without a signing key", "ASPNETCORE_ENVIRONMENT=Production Server__Issuer=https://id.example.com", "Signing:Keys" },
        { "Production without an issuer", "ASPNETCORE_ENVIRONMENT=Production", "Server:Issuer" },
        { "a duration that is not one", "Tokens__AccessTokenLifetime=banana", "Tokens:AccessTokenLifetime" },
        { "a duration read on its own that is not one", "Admin__SecretRotationGracePeriod=soon", "Admin:SecretRotationGracePeriod" },
        { "a boolean that is not one", "Database__MigrateOnStart=maybe", "Database:MigrateOnStart" },
        { "a provider with a client id and no secret", "Authentication__GitHub__ClientId=x", "Authentication:GitHub:ClientSecret" },
        { "a data folder that cannot be created", "Database__DataDirectory={folder}/a-file/data", "Database:DataDirectory" },
        { "a SQLite file in a folder that does not exist", "Database__Provider=Sqlite Database__ConnectionString=Filename={folder}/missing/identity.db", "Database:ConnectionString" },
        { "a connection string PostgreSQL cannot parse", "Database__Provider=PostgreSQL Database__ConnectionString=Hoost=db", "Database:ConnectionString" },
        { "a development key path that cannot be written", "Signing__DevelopmentKeyPath={folder}/a-file/key.pem", "Signing:DevelopmentKeyPath" },
        { "a malformed listen address", "ASPNETCORE_URLS=localhost-5000", "urls (--urls or ASPNETCORE_URLS)" },
        { "a malformed endpoint address", "Kestrel__Endpoints__Web__Url=http//127.0.0.1:0", "Kestrel:Endpoints:Web:Url" },
        { "a log level that is not one", "Logging__LogLevel__Default=Loud", "Logging:LogLevel:Default" },
        { "an OTLP collector address that is not a URL", "Telemetry__Otlp__Endpoint=collector", "Telemetry:Otlp:Endpoint" },
        { "a TLS certificate file that does not exist", "ASPNETCORE_URLS=https://127.0.0.1:0 Kestrel__Certificates__Default__Path={folder}/missing.pfx", "Kestrel:Certificates:Default:Path" },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public async Task Bad_configuration_stops_startup_with_one_line_naming_the_setting(string problem, string setting, string expectedSetting)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            // Should the server start anyway, it must not take a fixed port; the timeout then fails the test.
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Database__DataDirectory"] = Path.Combine(_folder.Path, "data"),
        };
        foreach (var pair in setting.Split(' '))
        {
            var (name, value) = (pair[..pair.IndexOf('=', StringComparison.Ordinal)], pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            environment[name] = value.Replace("{folder}", _folder.Path, StringComparison.Ordinal);
        }

        var line = await StartAndReadTheOneLineAsync(problem, environment);

        Assert.Contains($"'{expectedSetting}'", line, StringComparison.Ordinal);
    }

    /// <summary>Failures only trying shows (nothing answers, Kestrel cannot use a certificate): one line saying what to check.</summary>
    public static TheoryData<string, string, string> FailedStarts => new()
    {
        { "PostgreSQL refusing the connection", "Database__Provider=PostgreSQL Database__ConnectionString=Host=127.0.0.1;Port=1;Username=x;Password=x;Timeout=5", "Connection refused" },
        { "PostgreSQL refusing the connection before listening", "Database__StartInBackground=false Database__Provider=PostgreSQL Database__ConnectionString=Host=127.0.0.1;Port=1;Username=x;Password=x;Timeout=5", "Connection refused" },
        { "a data folder the server may not write", "Database__DataDirectory=/proc Signing__DevelopmentKeyPath={folder}/key.pem", "Database:DataDirectory" },
        { "https without a certificate", "ASPNETCORE_URLS=https://127.0.0.1:0", "Kestrel:Certificates:Default:Path" },
        { "a TLS certificate that is not one", "ASPNETCORE_URLS=https://127.0.0.1:0 Kestrel__Certificates__Default__Path={folder}/a-file", "TLS certificate could not be read" },
    };

    [Theory]
    [MemberData(nameof(FailedStarts))]
    public async Task A_start_that_fails_stops_with_one_line_naming_the_cause(string problem, string setting, string expected)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Database__DataDirectory"] = Path.Combine(_folder.Path, "data"),
        };
        foreach (var pair in setting.Split(' '))
        {
            var (name, value) = (pair[..pair.IndexOf('=', StringComparison.Ordinal)], pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            environment[name] = value.Replace("{folder}", _folder.Path, StringComparison.Ordinal);
        }

        var line = await StartAndReadTheOneLineAsync(problem, environment);

        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    /// <summary>
    /// Starts the server expecting it to fail: exit code 1 (not the runtime's 134), one line on stderr, and neither a
    /// stack trace nor a critical entry (from a background service cancelled by the stop) in the log.
    /// </summary>
    private async Task<string> StartAndReadTheOneLineAsync(string problem, Dictionary<string, string> environment)
    {
        // A file where a folder is expected: nothing can be created under it, whoever runs the tests (root included).
        await File.WriteAllTextAsync(Path.Combine(_folder.Path, "a-file"), "not a folder, not a certificate");
        using var server = ServerProcess.Start(environment, _folder.Path);
        var exitCode = await server.WaitForExitAsync(ExitTimeout);

        var stderr = server.StandardError;
        var stdout = server.StandardOutput;
        Assert.True(exitCode is not null, $"{problem}: the server was still running after {ExitTimeout}. stdout: {stdout}");
        Assert.True(exitCode == 1, $"{problem}: exit code {exitCode}, stderr: {stderr}");
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout, StringComparison.Ordinal);
        Assert.False(stdout.Split('\n').Any(l => l.StartsWith("crit", StringComparison.Ordinal)), $"{problem}: {stdout}");
        return line;
    }

    /// <summary>
    /// The real binary on SQL Server, up to the network: no SQL Server runs here, so the connection is refused (port 1 on
    /// loopback), and the server must stop saying so. SqlClient refuses to open any connection in globalization-invariant
    /// mode, before the network; a server built that way would stop with that error instead.
    /// </summary>
    [Fact]
    public async Task SQL_Server_gets_as_far_as_the_network_and_stops_when_none_answers()
    {
        using var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Database__DataDirectory"] = Path.Combine(_folder.Path, "data"),
            ["Database__Provider"] = "SqlServer",
            ["Database__ConnectionString"] = "Server=tcp:127.0.0.1,1;Database=identity;User Id=sa;Password=unused;Connect Timeout=5;Encrypt=False",
        }, _folder.Path);

        var exitCode = await server.WaitForExitAsync(ExitTimeout);

        var stderr = server.StandardError;
        Assert.True(exitCode == 1, $"exit code {exitCode}, stderr: {stderr}, stdout: {server.StandardOutput}");
        Assert.Contains("The database could not be prepared", stderr, StringComparison.Ordinal);
        Assert.Contains("network-related", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Globalization", stderr + server.StandardOutput, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Development_without_an_issuer_takes_it_from_the_urls_and_warns_once_about_a_misspelt_key()
    {
        var issuer = $"http://127.0.0.1:{ServerProcess.FreeLoopbackPort()}";
        using var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Database__DataDirectory"] = Path.Combine(_folder.Path, "data"),
            ["Tokens__AccesTokenLifetime"] = "00:01:00",
        }, _folder.Path, "--urls", issuer);

        using var document = JsonDocument.Parse(await ReadDiscoveryAsync(server, issuer));

        Assert.Equal(issuer, document.RootElement.GetProperty("issuer").GetString());
        Assert.Equal(issuer + "/connect/token", document.RootElement.GetProperty("token_endpoint").GetString());
        var warnings = server.StandardOutput.Split('\n').Where(l => l.Contains("'Tokens:AccesTokenLifetime'", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 1, $"expected one warning naming the key. stdout: {server.StandardOutput}");
        Assert.StartsWith("warn", warnings[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_busy_port_stops_startup_with_one_line_naming_the_address()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)occupant.LocalEndpoint).Port}";
        using var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Database__DataDirectory"] = Path.Combine(_folder.Path, "data"),
        }, _folder.Path, "--urls", url);

        var exitCode = await server.WaitForExitAsync(ExitTimeout);

        var stderr = server.StandardError;
        Assert.True(exitCode == 1, $"exit code {exitCode}, stderr: {stderr}, stdout: {server.StandardOutput}");
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains(url, line, StringComparison.Ordinal);
        Assert.Contains("address already in use", line, StringComparison.OrdinalIgnoreCase);
        Assert.False(server.StandardOutput.Contains("crit", StringComparison.Ordinal), server.StandardOutput);
        // No stack trace anywhere: the host's own "Hosting failed to start" entry is left out of the logs.
        Assert.DoesNotContain("   at ", server.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", server.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_probe_polling_a_starting_server_adds_no_log_line_per_poll_and_development_lines_carry_a_readable_scope()
    {
        var issuer = $"http://127.0.0.1:{ServerProcess.FreeLoopbackPort()}";
        using var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Database__DataDirectory"] = Path.Combine(_folder.Path, "data"),
            ["Logging__LogLevel__Default"] = "Information",
        }, _folder.Path, "--urls", issuer);

        // Polls from the start until ready, as an orchestrator's probe does: the database is still being prepared for
        // the first answers (503), which must not each add log lines.
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var notReady = 0;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60) && !server.HasExited, server.StandardOutput + server.StandardError);
            try
            {
                var status = (await client.GetAsync(new Uri(issuer + "/health/ready"))).StatusCode;
                if (status == HttpStatusCode.OK)
                {
                    break;
                }

                Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                notReady++;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(20);
        }

        // A request that logs (an unknown client at the authorization endpoint) shows the correlation scope.
        await client.GetAsync(new Uri(issuer + "/connect/authorize?client_id=nobody&response_type=code"));
        await Task.Delay(500);

        var output = server.StandardOutput;
        Assert.DoesNotContain("Health check", output, StringComparison.Ordinal);
        Assert.Single(output.Split('\n'), l => l.Contains("/health/ready answers 503 until it is done", StringComparison.Ordinal));
        Assert.DoesNotContain("KeyValuePair", output, StringComparison.Ordinal);
        Assert.Contains("CorrelationId:", output, StringComparison.Ordinal);
        Assert.True(notReady > 0, "no probe saw the server starting");
    }

    private static async Task<string> ReadDiscoveryAsync(ServerProcess server, string issuer)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && !server.HasExited)
        {
            try
            {
                return await client.GetStringAsync(new Uri(issuer + "/.well-known/openid-configuration"));
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200);
            }
            catch (TaskCanceledException)
            {
                // A request timed out while the server was still starting.
            }
        }

        throw new Xunit.Sdk.XunitException($"no discovery answer within 60 s (exited: {server.HasExited}). stdout: {server.StandardOutput} stderr: {server.StandardError}");
    }

    [Fact]
    public async Task Development_answers_discovery_within_seconds_and_keeps_its_key_across_restarts()
    {
        var dataDirectory = Path.Combine(_folder.Path, "data");

        var firstKid = await StartAndReadKeyIdAsync(dataDirectory);
        var keyFile = Path.Combine(_folder.Path, "data", "keys", "development-signing-key.pem");
        Assert.True(File.Exists(keyFile), $"the Development key was not kept at {keyFile}");
        var secondKid = await StartAndReadKeyIdAsync(dataDirectory);

        Assert.Equal(firstKid, secondKid);
        Assert.True(File.Exists(Path.Combine(dataDirectory, "identity.db")), "the SQLite database was not created in the data directory");
    }

    private async Task<string> StartAndReadKeyIdAsync(string dataDirectory)
    {
        var port = ServerProcess.FreeLoopbackPort();
        var issuer = $"http://127.0.0.1:{port}";
        using var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = issuer,
            ["Server__Issuer"] = issuer,
            ["Database__DataDirectory"] = dataDirectory,
        }, _folder.Path);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        string? discovery = null;
        while (discovery is null && clock.Elapsed < TimeSpan.FromSeconds(60) && !server.HasExited)
        {
            try
            {
                discovery = await client.GetStringAsync(new Uri(issuer + "/.well-known/openid-configuration"));
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200);
            }
            catch (TaskCanceledException)
            {
                // A request timed out while the server was still starting.
            }
        }

        Assert.True(discovery is not null,
            $"no discovery answer within 60 s (exited: {server.HasExited}). stdout: {server.StandardOutput} stderr: {server.StandardError}");
        // Discovery answers while the database is still being prepared (Database:StartInBackground); readiness follows.
        var ready = false;
        while (!ready && clock.Elapsed < TimeSpan.FromSeconds(60) && !server.HasExited)
        {
            using var probe = await client.GetAsync(new Uri(issuer + "/health/ready"));
            ready = probe.StatusCode == System.Net.HttpStatusCode.OK;
            if (!ready)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(ready, $"not ready within 60 s. stdout: {server.StandardOutput} stderr: {server.StandardError}");
        using var document = JsonDocument.Parse(discovery);
        Assert.Equal(issuer, document.RootElement.GetProperty("issuer").GetString());
        var jwksUri = document.RootElement.GetProperty("jwks_uri").GetString()!;
        using var jwks = JsonDocument.Parse(await client.GetStringAsync(new Uri(jwksUri)));
        var key = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray().ToList());
        Assert.Equal(TestKeys.Thumbprint(key), key.GetProperty("kid").GetString());
        return key.GetProperty("kid").GetString()!;
    }
}
