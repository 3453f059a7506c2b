using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace IdentityServer.Data;

/// <summary>
/// Serializes start-up work (migrations, seeding) across instances that start at once on one PostgreSQL database, as
/// replicas do: each would otherwise read the same pending migrations and apply them together (the second CREATE TABLE
/// fails and that instance exits), or insert the same seeded client twice. A session-level advisory lock on its own
/// connection, held until the handle is disposed; the other instances wait for it, then find nothing left to do.
/// SQLite is one local file used by one process: there the handle holds nothing.
/// </summary>
public sealed class StartupLock : IAsyncDisposable
{
    /// <summary>An arbitrary application-wide key for pg_advisory_lock ("IdSrv" in ASCII).</summary>
    private const long LockKey = 0x4964537276;

    private readonly NpgsqlConnection? _connection;

    private StartupLock(NpgsqlConnection? connection) => _connection = connection;

    public static async Task<StartupLock> AcquireAsync(IdentityDbContext db, CancellationToken cancellationToken)
    {
        if (!db.Database.IsPostgres())
        {
            return new StartupLock(null);
        }

        var connection = new NpgsqlConnection(db.Database.GetConnectionString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, "SELECT pg_advisory_lock(@key)", cancellationToken);
            return new StartupLock(connection);
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
            await ExecuteAsync(_connection, "SELECT pg_advisory_unlock(@key)", CancellationToken.None);
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("key", LockKey);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
