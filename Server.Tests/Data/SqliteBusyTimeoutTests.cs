using System.Globalization;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Protocol;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Data;

/// <summary>
/// SQLite allows one writer at a time. Without SQLite's own busy handler, Microsoft.Data.Sqlite retries a blocked write
/// only every 150 ms, which made concurrent token requests queue in 150 ms steps; every connection the server opens must
/// carry the busy timeout instead.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class SqliteBusyTimeoutTests(SqliteServer server)
{
    [Fact]
    public async Task Server_connections_let_sqlite_wait_for_the_writer()
    {
        var milliseconds = await server.WithDatabaseAsync(async db =>
        {
            await db.Database.OpenConnectionAsync();
            try
            {
                await using var command = db.Database.GetDbConnection().CreateCommand();
                command.CommandText = "PRAGMA busy_timeout;";
                return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        });

        Assert.Equal(30_000, milliseconds);
    }
}
