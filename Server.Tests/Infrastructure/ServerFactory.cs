using IdentityServer.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// The in-process server host. One instance per database is shared by the tests (xunit collection fixtures), on a
/// throwaway SQLite file or on a database of the shared throwaway PostgreSQL cluster. Time is a <see cref="FakeTimeProvider"/>
/// that starts at the real time, so tests move it forward instead of sleeping.
/// </summary>
public class ServerFactory : WebApplicationFactory<Program>
{
    public const string Issuer = "https://id.test.example";

    private readonly string _dataDirectory;

    public ServerFactory()
        : this(Path.Combine(Path.GetTempPath(), "idsrv-tests-" + Guid.NewGuid().ToString("N")))
    {
    }

    /// <summary>A host on an existing data directory: a second instance sharing the first one's database and key.</summary>
    protected ServerFactory(string dataDirectory) => _dataDirectory = dataDirectory;

    public string DataDirectory => _dataDirectory;

    /// <summary>Whether disposing this host deletes the data directory (the first instance owns it).</summary>
    protected virtual bool OwnsDataDirectory => true;

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>Extra settings (for example Database:Provider and Database:ConnectionString for PostgreSQL).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>The PBKDF2 iteration count of the tests (1,000); null keeps the server's own (its production default).</summary>
    protected virtual int? TestPasswordHashIterations => 1_000;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        var settings = new Dictionary<string, string?>
        {
            ["Server:Issuer"] = Issuer,
            ["Database:Provider"] = "Sqlite",
            ["Database:DataDirectory"] = _dataDirectory,
            // Tests use the database straight after the host starts; the background start has tests of its own
            // (Foundation/DatabaseStartupTests).
            ["Database:StartInBackground"] = "false",
            ["Signing:DevelopmentKeyPath"] = Path.Combine(_dataDirectory, "keys", "signing.pem"),
            // The in-process host has no client address, so every test's sign-ins would share one strict per-address
            // budget. The limits themselves are tested on a host of their own (Security/RateLimitTests).
            ["RateLimits:SignInPerAddress:PermitLimit"] = "1000000",
            ["RateLimits:AccountEmailPerAddress:PermitLimit"] = "1000000",
            // The same for wrong device user codes; the guessing limits have a host of their own (Protocol/DeviceGuessingTests).
            ["DeviceFlow:UserCodeFailuresPerAddress:PermitLimit"] = "1000000",
            ["DeviceFlow:UserCodeFailures:PermitLimit"] = "1000000",
            // Back-channel logout receivers in tests listen on loopback, as an app next to a development server does.
            // The refusal of loopback and private addresses has tests of its own (Security/OutboundHttpTests).
            ["Outbound:AllowLoopback"] = "true",
            // The test command prints each test's result; the in-process servers' routine logs would drown it. Warnings and
            // errors still show.
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        // UseSetting feeds the host configuration before the application's builder code reads it.
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Time);
            // Password hashing dominates user creation and sign-in in tests; fewer PBKDF2 rounds keep the suite fast.
            if (TestPasswordHashIterations is { } iterations)
            {
                services.Configure<Microsoft.AspNetCore.Identity.PasswordHasherOptions>(o => o.IterationCount = iterations);
            }
        });
    }

    public async Task<T> WithDatabaseAsync<T>(Func<IdentityDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<IdentityDbContext>());
    }

    public async Task WithDatabaseAsync(Func<IdentityDbContext, Task> work)
    {
        await using var scope = Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<IdentityDbContext>());
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && OwnsDataDirectory)
        {
            try
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }
}
