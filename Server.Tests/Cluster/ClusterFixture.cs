using System.Diagnostics;
using System.Security.Cryptography;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tests.Foundation;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Cluster;

/// <summary>
/// Three real server processes (A, B, C: the built IdentityServer.dll, Production environment) on one fresh database of
/// the shared throwaway PostgreSQL cluster, sharing one signing key file and nothing else: no sticky sessions, no shared
/// memory. A confidential client is seeded through configuration (Seed__Clients__0__...) and users are created in the
/// database through ASP.NET Core Identity, as an operator's tool would. Started on first use, so a machine without
/// PostgreSQL (where the tests are skipped) pays nothing.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string ClientId = "cluster-app";
    public const string RedirectUri = "http://127.0.0.1:9/callback"; // never contacted: the code is read from Location
    public static readonly string[] Names = ["A", "B", "C"];

    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly TempFolder _folder = new("idsrv-cluster-");
    private readonly ServerProcess?[] _processes = new ServerProcess?[3];
    private readonly int[] _ports = new int[3];
    private Dictionary<string, string>? _environment;
    private string? _connectionString;

    public string ClientSecret { get; } = ClientSecrets.Generate();

    /// <summary>One issuer for all three, as behind a load balancer (http on loopback is allowed in Production).</summary>
    public string Issuer { get; private set; } = "";

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The cluster is not started.");

    public string WorkingDirectory => _folder.Path;

    public IReadOnlyDictionary<string, string> Environment => _environment ?? throw new InvalidOperationException("The cluster is not started.");

    public Uri BaseAddress(int instance) => new($"http://127.0.0.1:{_ports[instance]}");

    internal ServerProcess Process(int instance) => _processes[instance] ?? throw new InvalidOperationException($"Instance {Names[instance]} is not running.");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task StartAsync()
    {
        await _startLock.WaitAsync();
        try
        {
            if (_environment is not null)
            {
                return;
            }

            _connectionString = await PostgresCluster.Shared.CreateDatabaseAsync();
            var keyPath = System.IO.Path.Combine(_folder.Path, "signing.pem");
            using (var rsa = RSA.Create(2048))
            {
                await File.WriteAllTextAsync(keyPath, rsa.ExportPkcs8PrivateKeyPem());
            }

            for (var i = 0; i < 3; i++)
            {
                _ports[i] = ServerProcess.FreeLoopbackPort();
            }

            Issuer = $"http://127.0.0.1:{_ports[0]}";
            _environment = new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Server__Issuer"] = Issuer,
                ["Database__Provider"] = DatabaseProviders.PostgreSql,
                ["Database__ConnectionString"] = _connectionString,
                ["Signing__Keys__0__Path"] = keyPath,
                ["Pruning__Enabled"] = "false",
                // Long enough for a test to see an instance without its revocation notifications before it reconnects.
                ["RevocationCache__ReconnectDelay"] = "00:00:03",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Seed__Clients__0__ClientId"] = ClientId,
                ["Seed__Clients__0__ClientSecret"] = ClientSecret,
                ["Seed__Clients__0__Type"] = ClientTypes.Confidential,
                ["Seed__Clients__0__ConsentType"] = ConsentTypes.Implicit,
                ["Seed__Clients__0__RedirectUris__0"] = RedirectUri,
                ["Seed__Clients__0__GrantTypes__0"] = "authorization_code",
                ["Seed__Clients__0__GrantTypes__1"] = "refresh_token",
                ["Seed__Clients__0__Scopes__0"] = "openid",
                ["Seed__Clients__0__Scopes__1"] = "profile",
                ["Seed__Clients__0__Scopes__2"] = "offline_access",
                ["Seed__Clients__0__CanIntrospect"] = "true",
            };

            // All three at once, as replicas start: they migrate the same empty database concurrently.
            await Task.WhenAll(Enumerable.Range(0, 3).Select(StartInstanceAsync));
        }
        finally
        {
            _startLock.Release();
        }
    }

    /// <summary>Starts (or starts again, after a kill) one instance on its port and waits until it is ready.</summary>
    public async Task StartInstanceAsync(int instance)
    {
        _processes[instance]?.Dispose();
        var environment = new Dictionary<string, string>(Environment) { ["ASPNETCORE_URLS"] = BaseAddress(instance).ToString().TrimEnd('/') };
        var process = ServerProcess.Start(environment, _folder.Path);
        _processes[instance] = process;
        await WaitUntilReadyAsync(instance, process);
    }

    /// <summary>kill -9: no shutdown, no flushing, whatever the process was doing.</summary>
    public void Kill(int instance) => Process(instance).Stop();

    /// <summary>Runs the server's <c>prune</c> command with the instances' configuration; returns its exit code and output.</summary>
    internal ServerProcess StartPrune() => ServerProcess.Start(Environment, _folder.Path, "prune");

    /// <summary>
    /// Ends an instance's revocation-notification connection from the database side (pg_terminate_backend), as a
    /// database restart or a network cut would; returns once that backend is gone.
    /// </summary>
    public async Task CutRevocationListenerAsync(int instance)
    {
        var pid = await RevocationListenerBackendAsync(instance) ?? throw new InvalidOperationException("No revocation listener to cut.");
        await QueryAsync($"SELECT pg_terminate_backend({pid})");
        var clock = Stopwatch.StartNew();
        while (await RevocationListenerBackendAsync(instance) == pid)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the listener's backend did not end");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until the instance's revocation listener is connected and has run LISTEN.</summary>
    public async Task WaitForRevocationListenerAsync(int instance)
    {
        var clock = Stopwatch.StartNew();
        while (await RevocationListenerBackendAsync(instance) is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"instance {Names[instance]} did not subscribe to revocation notifications");
            await Task.Delay(50);
        }

        await Task.Delay(100); // the instance marks its cache subscribed right after LISTEN returns
    }

    /// <summary>The backend pid of the instance's listener (application_name carries the server's process id), once it has run LISTEN.</summary>
    private async Task<int?> RevocationListenerBackendAsync(int instance)
    {
        var name = "identityserver-revocations-" + Process(instance).Id;
        var pid = await QueryAsync($"SELECT pid FROM pg_stat_activity WHERE application_name = '{name}' AND query <> '' AND state = 'idle'");
        return pid is int value ? value : null;
    }

    private async Task<object?> QueryAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async Task<ApplicationUser> CreateUserAsync(string password)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = DatabaseProviders.PostgreSql,
            ["Database:ConnectionString"] = ConnectionString,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIdentityDatabase(configuration);
        services.AddIdentityCore<ApplicationUser>(o =>
        {
            o.Password.RequireDigit = false;
            o.Password.RequireUppercase = false;
            o.Password.RequireNonAlphanumeric = false;
        }).AddEntityFrameworkStores<IdentityDbContext>();
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var name = "cluster" + Guid.NewGuid().ToString("N")[..10];
        var user = new ApplicationUser { UserName = name, Email = name + "@example.com", EmailConfirmed = true, Name = "Cluster " + name };
        var result = await users.CreateAsync(user, password);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));
        return user;
    }

    public async Task<T> WithDatabaseAsync<T>(Func<IdentityDbContext, Task<T>> action)
    {
        var builder = new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<IdentityDbContext>();
        DatabaseRegistration.ProviderConfiguration(new DatabaseOptions { Provider = DatabaseProviders.PostgreSql, ConnectionString = ConnectionString })(builder);
        builder.ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.PendingModelChangesWarning));
        await using var db = new IdentityDbContext(builder.Options);
        return await action(db);
    }

    private async Task WaitUntilReadyAsync(int instance, ServerProcess process)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var ready = new Uri(BaseAddress(instance), "/health/ready");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(ready);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Still starting.
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"Instance {Names[instance]} was not ready within 60 s (exited: {process.HasExited}).\n"
            + $"stdout: {process.StandardOutput}\nstderr: {process.StandardError}");
    }

    public Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            process?.Dispose();
        }

        _folder.Dispose();
        _startLock.Dispose();
        return Task.CompletedTask;
    }
}
