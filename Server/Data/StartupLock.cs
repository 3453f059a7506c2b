using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace IdentityServer.Data;

/// <summary>
/// Serializes start-up work (migrations, seeding) across instances that start at once on one shared database, as
/// replicas do: each would otherwise read the same pending migrations and apply them together (the second CREATE TABLE
/// fails and that instance exits), or insert the same seeded client twice. A session-level lock on its own connection
/// (PostgreSQL: an advisory lock; SQL Server: an application lock owned by the session), held until the handle is
/// disposed; the other instances wait for it, then find nothing left to do. SQLite is one local file used by one
/// process: there the handle holds nothing.
/// </summary>
public sealed class StartupLock : IAsyncDisposable
{
    /// <summary>An arbitrary application-wide key for pg_advisory_lock ("IdSrv" in ASCII: 0x4964537276).</summary>
    internal const long PostgresKey = 0x4964537276;

    /// <summary>The same lock for SQL Server's sp_getapplock, which names its locks.</summary>
    internal const string SqlServerResource = "IdentityServer.Startup";

    private readonly DbConnection? _connection;
    private readonly string? _releaseSql;

    private StartupLock(DbConnection? connection, string? releaseSql) => (_connection, _releaseSql) = (connection, releaseSql);

    /// <summary>The statements that take and give back the lock on this provider; null where there is nothing to lock.</summary>
    internal static (string Acquire, string Release)? StatementsFor(DatabaseFacade database) =>
        database.IsPostgres() ? ($"SELECT pg_advisory_lock({PostgresKey})", $"SELECT pg_advisory_unlock({PostgresKey})")
        : database.IsMsSqlServer() ? (SqlServerAcquireSql, SqlServerReleaseSql)
        : null;

    /// <summary>
    /// Waits without limit (@LockTimeout = -1) for the lock owned by this session; sp_getapplock answers a negative
    /// status instead of an error when it fails (deadlock victim, cancelled), so that becomes an error here.
    /// </summary>
    internal const string SqlServerAcquireSql = $"""
        DECLARE @status int;
        EXEC @status = sp_getapplock @Resource = N'{SqlServerResource}', @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = -1;
        IF @status < 0 THROW 50000, 'sp_getapplock did not grant the start-up lock', 1;
        """;

    internal const string SqlServerReleaseSql = $"EXEC sp_releaseapplock @Resource = N'{SqlServerResource}', @LockOwner = 'Session';";

    public static async Task<StartupLock> AcquireAsync(IdentityDbContext db, CancellationToken cancellationToken)
    {
        if (StatementsFor(db.Database) is not var (acquire, release))
        {
            return new StartupLock(null, null);
        }

        // A connection of its own, of the context's provider: the lock lives as long as this session.
        var connection = DbProviderFactories.GetFactory(db.Database.GetDbConnection())!.CreateConnection()!;
        connection.ConnectionString = db.Database.GetConnectionString();
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, acquire, cancellationToken);
            return new StartupLock(connection, release);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is null)
        {
            return;
        }

        try
        {
            // Ending the session would release it too; unlocking first leaves a pooled connection clean.
            await ExecuteAsync(_connection, _releaseSql!, CancellationToken.None);
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        // The wait lasts as long as another instance's migrations do; only cancellation (shutdown) ends it early.
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
