using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityServer.Data;

/// <summary>
/// SQLite has one writer at a time. When a second connection wants to write, Microsoft.Data.Sqlite's own retry loop
/// sleeps 150 ms between attempts, so concurrent token requests (code redemption, refresh rotation) queued behind each
/// other in 150 ms steps (bench/run.sh: p99 of refresh rotation 400-750 ms). SQLite's busy handler instead retries
/// after 1, 2, 5, 10 ... ms, so a writer gets the lock about when the previous one commits. Set once per native
/// connection handle; pooled handles keep it.
/// </summary>
internal sealed class SqliteBusyTimeout(TimeSpan timeout) : DbConnectionInterceptor
{
    private readonly int _milliseconds = (int)timeout.TotalMilliseconds;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            SQLitePCL.raw.sqlite3_busy_timeout(handle, _milliseconds);
        }
    }
}
