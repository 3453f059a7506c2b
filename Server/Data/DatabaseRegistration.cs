using IdentityServer.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityServer.Data;

/// <summary>The one place where the database provider is chosen. SQL Server would be one more case here.</summary>
public static class DatabaseRegistration
{
    public static IServiceCollection AddIdentityDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        services.AddSingleton(options);
        services.AddSingleton<DatabaseMigrationService>();
        services.AddSingleton<DatabaseStartup>();
        services.AddHostedService<DatabaseStartupService>();
        services.AddSharedDataProtection();
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
        if (string.Equals(options.Provider, DatabaseProviders.Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            var connectionString = string.IsNullOrWhiteSpace(options.ConnectionString)
                ? DefaultSqliteConnectionString(options.DataDirectory)
                : options.ConnectionString;
            var busyTimeout = new SqliteBusyTimeout(TimeSpan.FromSeconds(30));
            return builder => builder.UseSqlite(connectionString).AddInterceptors(busyTimeout);
        }

        if (string.Equals(options.Provider, DatabaseProviders.PostgreSql, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                throw new StartupConfigurationException("Database:ConnectionString",
                    "PostgreSQL needs a connection string (for example Host=localhost;Database=identity;Username=identity;Password=...).");
            }

            var connectionString = WithPostgresDefaults(options.ConnectionString);
            return builder => builder.UseNpgsql(connectionString);
        }

        throw new StartupConfigurationException("Database:Provider",
            $"'{options.Provider}' is not a known provider; use '{DatabaseProviders.Sqlite}' or '{DatabaseProviders.PostgreSql}'.");
    }

    /// <summary>
    /// Two Npgsql settings the connection string does not name are set for a server that opens a pooled connection for
    /// nearly every request: no DISCARD ALL each time a connection is taken from the pool (we keep no session state:
    /// no SET, no temporary tables, no LISTEN), and server-side prepared statements for the statements run over and
    /// over (token lookups, rotations, liveness checks), so PostgreSQL stops parsing and planning them on every call.
    /// A connection string that names either setting keeps its own value.
    /// </summary>
    internal static string WithPostgresDefaults(string connectionString)
    {
        var named = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!named.ContainsKey("No Reset On Close") && !named.ContainsKey("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        if (!named.ContainsKey("Max Auto Prepare") && !named.ContainsKey("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
        }

        return builder.ConnectionString;
    }

    private static string DefaultSqliteConnectionString(string dataDirectory)
    {
        var folder = Path.GetFullPath(dataDirectory);
        Directory.CreateDirectory(folder);
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(folder, "identity.db"),
            DefaultTimeout = 30,
            Pooling = true,
        }.ToString();
    }
}
