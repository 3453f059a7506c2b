using System.Data.Common;
using System.Globalization;
using System.Text;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Admin;

/// <summary>Every value of every table of a SQLite test database as text, to prove a secret was stored nowhere.</summary>
internal static class DatabaseText
{
    public static Task<string> DumpAsync(ServerFactory server) => server.WithDatabaseAsync(async db =>
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        try
        {
            var tables = new List<string>();
            await using (var list = connection.CreateCommand())
            {
                list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
                await using var reader = await list.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    tables.Add(reader.GetString(0));
                }
            }

            var text = new StringBuilder();
            foreach (var table in tables)
            {
                await using var select = connection.CreateCommand();
                select.CommandText = $"SELECT * FROM \"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
                await using var reader = await select.ExecuteReaderAsync();
                await AppendAsync(reader, text);
            }

            return text.ToString();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    });

    private static async Task AppendAsync(DbDataReader reader, StringBuilder text)
    {
        while (await reader.ReadAsync())
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var value = reader.GetValue(i);
                text.Append(value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
            }
        }
    }
}
