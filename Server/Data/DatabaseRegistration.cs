using IdentityServer.Hosting;
using IdentityServer.Hosting.Cli;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityServer.Data;

/// <summary>The one place where the database provider is chosen: SQLite, PostgreSQL or SQL Server.</summary>
public static class DatabaseRegistration
{
    public static IServiceCollection AddIdentityDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSetting<DatabaseOptions>(DatabaseOptions.Section);
        services.AddSingleton(options);
        services.AddSingleton<DatabaseMigrationService>();
        services.AddCommandPreparation<DatabaseMigrationService>();
        services.AddSingleton<DatabaseStartup>();
        services.AddHostedService<DatabaseStartupService>();
        // Readiness: /health/ready (see ObservabilitySetup.MapHealth) answers 503 until the start's database work is done.
        services.AddLogging(logging => logging.QuietStartingProbes());
        services.AddHealthChecks()
            .AddCheck<DatabaseStartupHealthCheck>("database-startup", tags: ["ready"])
            .AddCheck<DatabaseConnectionHealthCheck>("database", tags: ["ready"]);
        services.AddSharedDataProtection(configuration);
        var configure = ProviderConfiguration(options);
        var postgres = string.Equals(options.Provider, DatabaseProviders.PostgreSql, StringComparison.OrdinalIgnoreCase);
        services.AddSingleton<NpgsqlPoolReset>();
        services.AddDbContextPool<IdentityDbContext>((provider, builder) =>
        {
            configure(builder);
            if (postgres)
            {
                // After a database restart the first broken connection empties the pool (see NpgsqlPoolReset).
                builder.AddInterceptors(provider.GetRequiredService<NpgsqlPoolReset>());
            }

            // The schema is guarded by a test comparing the migrated schema with the model on both providers,
            // so EF's snapshot-based check (we write migrations by hand, without a snapshot) is not needed.
            // EF logs every failed command as an Error, also those the code expects and handles (a lost insert race, the
            // migration history probed on a fresh PostgreSQL database at every first start). As a Warning it still carries
            // the SQL; a failure that matters to a request reaches the exception handler, which logs it as an Error.
            builder.ConfigureWarnings(w => w
                .Ignore(RelationalEventId.PendingModelChangesWarning)
                .Log((RelationalEventId.CommandError, LogLevel.Warning)));
        });
        return services;
    }

    internal static Action<DbContextOptionsBuilder> ProviderConfiguration(DatabaseOptions options)
    {
        var provider = ProviderOnly(options);
        return builder =>
        {
            provider(builder);
            builder.ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, IdentitySchemaModelCacheKey>();
        };
    }

    private static Action<DbContextOptionsBuilder> ProviderOnly(DatabaseOptions options)
    {
        if (string.Equals(options.Provider, DatabaseProviders.Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            var connectionString = string.IsNullOrWhiteSpace(options.ConnectionString)
                ? DefaultSqliteConnectionString(options.DataDirectory)
                : CheckedSqliteConnectionString(options.ConnectionString);
            var busyTimeout = new SqliteBusyTimeout(TimeSpan.FromSeconds(30));
            return builder => builder.UseSqlite(connectionString).AddInterceptors(busyTimeout, AfterCommit.Interceptor);
        }

        if (string.Equals(options.Provider, DatabaseProviders.PostgreSql, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                throw new StartupConfigurationException("Database:ConnectionString",
                    "PostgreSQL needs a connection string (for example Host=localhost;Database=identity;Username=identity;Password=...).");
            }

            var connectionString = Parsed(() => WithPostgresDefaults(options.ConnectionString, Environment.ProcessorCount));
            return builder => builder.UseNpgsql(connectionString).AddInterceptors(AfterCommit.Interceptor);
        }

        if (string.Equals(options.Provider, DatabaseProviders.SqlServer, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                throw new StartupConfigurationException("Database:ConnectionString",
                    "SQL Server needs a connection string (for example Server=localhost;Database=identity;User Id=identity;Password=...;TrustServerCertificate=True).");
            }

            // No retrying execution strategy as the context's default (see IdempotentRetry: only idempotent work retries).
            var connectionString = options.ConnectionString;
            Parsed(() => new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(connectionString));
            return builder => builder.UseSqlServer(connectionString).AddInterceptors(AfterCommit.Interceptor);
        }

        throw new StartupConfigurationException("Database:Provider",
            $"'{options.Provider}' is not a known provider; use '{DatabaseProviders.Sqlite}', '{DatabaseProviders.PostgreSql}' or '{DatabaseProviders.SqlServer}'.");
    }

    /// <summary>
    /// Npgsql settings the connection string does not name are set for a server that opens a pooled connection for
    /// nearly every request:
    /// <list type="bullet">
    /// <item>no DISCARD ALL each time a connection is taken from the pool (we keep no session state: no SET, no temporary
    /// tables, no LISTEN);</item>
    /// <item>server-side prepared statements for the statements run over and over (token lookups, rotations, liveness
    /// checks), so PostgreSQL stops parsing and planning them on every call;</item>
    /// <item>at most <see cref="DefaultMaxPoolSize"/> connections instead of Npgsql's 100: PostgreSQL runs a process per
    /// connection and serves best with a few busy ones per core. Under a burst of 256 clients, with the server and
    /// PostgreSQL sharing one core, 100 connections served a third of the code flows that 8 to 20 did (p99 3.5 s against
    /// 0.8 s); with 16 clients it made no difference.</item>
    /// </list>
    /// A connection string that names a setting (in any of Npgsql's spellings) keeps its own value.
    /// </summary>
    internal static string WithPostgresDefaults(string connectionString, int processorCount)
    {
        var named = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!Names(named, "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        if (!Names(named, "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
        }

        if (!Names(named, "MaxPoolSize", "MaximumPoolSize"))
        {
            builder.MaxPoolSize = DefaultMaxPoolSize(processorCount);
        }

        return builder.ConnectionString;
    }

    /// <summary>16 connections per CPU the server may use, at least 16 and at most Npgsql's own default of 100.</summary>
    internal static int DefaultMaxPoolSize(int processorCount) => Math.Clamp(16 * processorCount, 16, 100);

    /// <summary>Whether the connection string names a setting: keys compared without case or spaces ("Max Pool Size").</summary>
    private static bool Names(System.Data.Common.DbConnectionStringBuilder named, params string[] keys) =>
        named.Keys.Cast<string>().Select(key => key.Replace(" ", "", StringComparison.Ordinal))
            .Any(key => keys.Contains(key, StringComparer.OrdinalIgnoreCase));

    /// <summary>A connection string the provider cannot parse (a misspelt keyword) fails here, naming the setting.</summary>
    private static T Parsed<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new StartupConfigurationException("Database:ConnectionString", e.Message);
        }
    }

    /// <summary>
    /// SQLite creates the database file but not its folder: a file in a folder that does not exist would fail only at
    /// the first query, as "unable to open database file". Said at start instead, naming the setting and the folder.
    /// </summary>
    private static string CheckedSqliteConnectionString(string connectionString)
    {
        var builder = Parsed(() => new SqliteConnectionStringBuilder(connectionString));
        var inMemory = builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:"
            || builder.DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase);
        if (!inMemory && Path.GetDirectoryName(Path.GetFullPath(builder.DataSource)) is { } folder && !Directory.Exists(folder))
        {
            throw new StartupConfigurationException("Database:ConnectionString",
                $"the folder of the SQLite database '{builder.DataSource}' does not exist ({folder}); create it or choose another Data Source.");
        }

        return connectionString;
    }

    private static string DefaultSqliteConnectionString(string dataDirectory)
    {
        var folder = Path.GetFullPath(dataDirectory);
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupConfigurationException("Database:DataDirectory", $"cannot create the data folder '{folder}': {e.Message}");
        }

        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(folder, "identity.db"),
            DefaultTimeout = 30,
            Pooling = true,
        }.ToString();
    }
}
