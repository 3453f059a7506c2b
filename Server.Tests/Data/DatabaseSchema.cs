using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace IdentityServer.Tests.Data;

/// <summary>
/// A provider-neutral description of a database schema as its catalog reports it, made to be compared: two databases
/// built differently (migrations vs. the model) must produce equal descriptions.
/// </summary>
internal sealed class DatabaseSchema
{
    /// <summary>EF's own bookkeeping, not part of the application's schema.</summary>
    public static readonly IReadOnlySet<string> IgnoredTables = new HashSet<string>(StringComparer.Ordinal)
    {
        "__EFMigrationsHistory",
        // The migration lock of EF Core 9+ on SQLite (PostgreSQL uses an advisory lock instead). Only Migrate creates it.
        "__EFMigrationsLock",
    };

    public SortedDictionary<string, TableSchema> Tables { get; } = new(StringComparer.Ordinal);

    public TableSchema Table(string name)
    {
        if (!Tables.TryGetValue(name, out var table))
        {
            table = new TableSchema(name);
            Tables.Add(name, table);
        }

        return table;
    }
}

internal sealed class TableSchema(string name)
{
    public string Name { get; } = name;
    public SortedDictionary<string, ColumnSchema> Columns { get; } = new(StringComparer.Ordinal);
    public KeySchema? PrimaryKey { get; set; }
    public SortedDictionary<string, IndexSchema> Indexes { get; } = new(StringComparer.Ordinal);
    public List<ForeignKeySchema> ForeignKeys { get; } = [];
    /// <summary>Check constraints by name (PostgreSQL).</summary>
    public SortedDictionary<string, string> Checks { get; } = new(StringComparer.Ordinal);
}

/// <param name="Generation">How the database generates values: identity, autoincrement, a computed expression; null if it does not.</param>
internal sealed record ColumnSchema(string Name, string Type, bool Nullable, string? Default, string? Generation);

/// <param name="Name">The constraint name (null where the catalog does not keep one).</param>
internal sealed record KeySchema(string? Name, IReadOnlyList<string> Columns);

/// <param name="Columns">Key columns in order, with " DESC" appended to descending ones.</param>
/// <param name="Kind">"index", or "unique constraint" for an index that backs a UNIQUE constraint.</param>
internal sealed record IndexSchema(
    string Name, IReadOnlyList<string> Columns, bool Unique, string? Filter, string Kind,
    string? Method = null, IReadOnlyList<string>? Included = null);

internal sealed record ForeignKeySchema(
    string? Name, IReadOnlyList<string> Columns, string PrincipalTable, IReadOnlyList<string> PrincipalColumns,
    string OnDelete, string OnUpdate)
{
    /// <summary>What identifies a foreign key on both sides: its columns and what they point at (names may differ).</summary>
    public string Signature => $"({string.Join(", ", Columns)}) -> {PrincipalTable}({string.Join(", ", PrincipalColumns)})";
}

/// <summary>Names every difference between two schema descriptions, one line each.</summary>
internal static class SchemaComparer
{
    public static IReadOnlyList<string> Compare(DatabaseSchema left, DatabaseSchema right, string leftName = "migrations", string rightName = "model")
    {
        var differences = new List<string>();
        var both = Match(left.Tables, right.Tables, name => $"table {name}", leftName, rightName, differences);
        foreach (var (l, r) in both)
        {
            CompareTables(l, r, leftName, rightName, differences);
        }

        return differences;
    }

    private static void CompareTables(TableSchema left, TableSchema right, string leftName, string rightName, List<string> differences)
    {
        var table = left.Name;
        foreach (var (l, r) in Match(left.Columns, right.Columns, name => $"{table}.{name}", leftName, rightName, differences))
        {
            var where = $"{table}.{l.Name}";
            Differ(where, "type", l.Type, r.Type, leftName, rightName, differences);
            if (l.Nullable != r.Nullable)
            {
                differences.Add($"{where}: {Nullability(l.Nullable)} in {leftName}, {Nullability(r.Nullable)} in {rightName}");
            }

            Differ(where, "default", l.Default, r.Default, leftName, rightName, differences);
            Differ(where, "generated", l.Generation, r.Generation, leftName, rightName, differences);
        }

        var leftKey = left.PrimaryKey is null ? null : $"{left.PrimaryKey.Name} ({string.Join(", ", left.PrimaryKey.Columns)})";
        var rightKey = right.PrimaryKey is null ? null : $"{right.PrimaryKey.Name} ({string.Join(", ", right.PrimaryKey.Columns)})";
        Differ(table, "primary key", leftKey, rightKey, leftName, rightName, differences);

        foreach (var (l, r) in Match(left.Indexes, right.Indexes, name => $"{table} index {name}", leftName, rightName, differences))
        {
            var where = $"{table} index {l.Name}";
            Differ(where, "columns", Columns(l.Columns), Columns(r.Columns), leftName, rightName, differences);
            if (l.Unique != r.Unique)
            {
                differences.Add($"{where}: {Uniqueness(l.Unique)} in {leftName}, {Uniqueness(r.Unique)} in {rightName}");
            }

            Differ(where, "kind", l.Kind, r.Kind, leftName, rightName, differences);
            Differ(where, "filter", l.Filter, r.Filter, leftName, rightName, differences);
            Differ(where, "method", l.Method, r.Method, leftName, rightName, differences);
            Differ(where, "included columns", Columns(l.Included ?? []), Columns(r.Included ?? []), leftName, rightName, differences);
        }

        var leftKeys = ForeignKeysBySignature(left.ForeignKeys);
        var rightKeys = ForeignKeysBySignature(right.ForeignKeys);
        foreach (var (l, r) in Match(leftKeys, rightKeys, signature => $"{table} foreign key {signature}", leftName, rightName, differences))
        {
            var where = $"{table} foreign key {l.Signature}";
            Differ(where, "name", l.Name, r.Name, leftName, rightName, differences);
            Differ(where, "on delete", l.OnDelete, r.OnDelete, leftName, rightName, differences);
            Differ(where, "on update", l.OnUpdate, r.OnUpdate, leftName, rightName, differences);
        }

        foreach (var name in left.Checks.Keys.Intersect(right.Checks.Keys))
        {
            Differ($"{table} check {name}", "definition", left.Checks[name], right.Checks[name], leftName, rightName, differences);
        }

        _ = Match(left.Checks, right.Checks, name => $"{table} check {name}", leftName, rightName, differences);
    }

    /// <summary>Reports what only one side has and returns the pairs present on both.</summary>
    private static List<(T Left, T Right)> Match<T>(
        IReadOnlyDictionary<string, T> left, IReadOnlyDictionary<string, T> right, Func<string, string> describe,
        string leftName, string rightName, List<string> differences)
    {
        var pairs = new List<(T, T)>();
        foreach (var key in left.Keys.Union(right.Keys).Order(StringComparer.Ordinal))
        {
            var inLeft = left.TryGetValue(key, out var l);
            var inRight = right.TryGetValue(key, out var r);
            if (inLeft && inRight)
            {
                pairs.Add((l!, r!));
            }
            else
            {
                differences.Add($"{describe(key)}: only in {(inLeft ? leftName : rightName)}");
            }
        }

        return pairs;
    }

    private static SortedDictionary<string, ForeignKeySchema> ForeignKeysBySignature(IEnumerable<ForeignKeySchema> keys)
    {
        var result = new SortedDictionary<string, ForeignKeySchema>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            // Two identical foreign keys would be a difference of their own; keep them apart.
            var signature = key.Signature;
            for (var n = 2; result.ContainsKey(signature); n++)
            {
                signature = $"{key.Signature} #{n}";
            }

            result.Add(signature, key);
        }

        return result;
    }

    private static void Differ(string where, string what, string? left, string? right, string leftName, string rightName, List<string> differences)
    {
        if (!string.Equals(left, right, StringComparison.Ordinal))
        {
            differences.Add($"{where}: {what} {Show(left)} in {leftName}, {Show(right)} in {rightName}");
        }
    }

    private static string Show(string? value) => value is null ? "none" : $"'{value}'";
    private static string Columns(IReadOnlyList<string> columns) => $"({string.Join(", ", columns)})";
    private static string Nullability(bool nullable) => nullable ? "nullable" : "not null";
    private static string Uniqueness(bool unique) => unique ? "unique" : "not unique";
}

/// <summary>Reads a SQLite schema from sqlite_master and the schema pragmas.</summary>
internal static partial class SqliteSchemaReader
{
    public static async Task<DatabaseSchema> ReadAsync(string connectionString)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        var schema = new DatabaseSchema();
        var tables = await QueryAsync(connection,
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            r => (Name: r.GetString(0), Sql: r.GetString(1)));
        foreach (var (name, sql) in tables.Where(t => !DatabaseSchema.IgnoredTables.Contains(t.Name)))
        {
            var table = schema.Table(name);
            var autoincrement = AutoincrementColumn().Match(sql) is { Success: true } m ? m.Groups[1].Value : null;

            var columns = await QueryAsync(connection, $"PRAGMA table_xinfo({Quote(name)})", r => (
                Name: r.GetString(1), Type: r.GetString(2), NotNull: r.GetInt64(3) != 0,
                Default: r.IsDBNull(4) ? null : r.GetString(4), PrimaryKeyPosition: r.GetInt64(5), Hidden: r.GetInt64(6)));
            foreach (var column in columns)
            {
                var generation = column.Hidden switch
                {
                    2 => "computed (virtual)",
                    3 => "computed (stored)",
                    _ => column.Name == autoincrement ? "autoincrement" : null,
                };
                table.Columns[column.Name] = new ColumnSchema(column.Name, column.Type, !column.NotNull, column.Default, generation);
            }

            var keyColumns = columns.Where(c => c.PrimaryKeyPosition > 0).OrderBy(c => c.PrimaryKeyPosition).Select(c => c.Name).ToList();
            if (keyColumns.Count > 0)
            {
                var keyName = PrimaryKeyName().Match(sql) is { Success: true } k ? k.Groups[1].Value : null;
                table.PrimaryKey = new KeySchema(keyName, keyColumns);
            }

            var indexes = await QueryAsync(connection, $"PRAGMA index_list({Quote(name)})", r => (
                Name: r.GetString(1), Unique: r.GetInt64(2) != 0, Origin: r.GetString(3)));
            foreach (var index in indexes.Where(i => i.Origin != "pk"))
            {
                var indexColumns = await QueryAsync(connection, $"PRAGMA index_xinfo({Quote(index.Name)})", r => (
                    Position: r.GetInt64(0), Name: r.IsDBNull(2) ? "<expression>" : r.GetString(2), Descending: r.GetInt64(3) != 0,
                    Key: r.GetInt64(5) != 0));
                var indexSql = await ScalarAsync(connection, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $name", index.Name);
                table.Indexes[index.Name] = new IndexSchema(
                    index.Name,
                    indexColumns.Where(c => c.Key).OrderBy(c => c.Position).Select(c => c.Descending ? c.Name + " DESC" : c.Name).ToList(),
                    index.Unique,
                    indexSql is null ? null : Filter(indexSql),
                    index.Origin == "u" ? "unique constraint" : "index");
            }

            var foreignKeys = await QueryAsync(connection, $"PRAGMA foreign_key_list({Quote(name)})", r => (
                Id: r.GetInt64(0), Position: r.GetInt64(1), Principal: r.GetString(2), From: r.GetString(3),
                To: r.IsDBNull(4) ? "" : r.GetString(4), OnUpdate: r.GetString(5), OnDelete: r.GetString(6)));
            var names = ForeignKeyName().Matches(sql).Select(f => (Name: f.Groups[1].Value, Columns: ColumnList(f.Groups[2].Value),
                Principal: f.Groups[3].Value)).ToList();
            foreach (var group in foreignKeys.GroupBy(f => f.Id).OrderBy(g => g.Key))
            {
                var parts = group.OrderBy(f => f.Position).ToList();
                var from = parts.Select(f => f.From).ToList();
                var principal = parts[0].Principal;
                var keyName = names.FirstOrDefault(n => n.Principal == principal && n.Columns.SequenceEqual(from)).Name;
                table.ForeignKeys.Add(new ForeignKeySchema(keyName, from, principal, parts.Select(f => f.To).ToList(),
                    parts[0].OnDelete, parts[0].OnUpdate));
            }
        }

        return schema;
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string? Filter(string indexSql)
    {
        var where = indexSql.LastIndexOf(" WHERE ", StringComparison.OrdinalIgnoreCase);
        return where < 0 ? null : indexSql[(where + 7)..].Trim();
    }

    private static List<string> ColumnList(string list) =>
        list.Split(',').Select(c => c.Trim().Trim('"')).ToList();

    private static async Task<List<T>> QueryAsync<T>(SqliteConnection connection, string sql, Func<SqliteDataReader, T> read)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static async Task<string?> ScalarAsync(SqliteConnection connection, string sql, string name)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteScalarAsync() as string;
    }

    [GeneratedRegex("\"([^\"]+)\"\\s+INTEGER\\b[^,]*\\bAUTOINCREMENT\\b", RegexOptions.IgnoreCase)]
    private static partial Regex AutoincrementColumn();

    [GeneratedRegex("CONSTRAINT\\s+\"([^\"]+)\"\\s+PRIMARY\\s+KEY", RegexOptions.IgnoreCase)]
    private static partial Regex PrimaryKeyName();

    [GeneratedRegex("CONSTRAINT\\s+\"([^\"]+)\"\\s+FOREIGN\\s+KEY\\s*\\(([^)]*)\\)\\s*REFERENCES\\s+\"([^\"]+)\"", RegexOptions.IgnoreCase)]
    private static partial Regex ForeignKeyName();
}

/// <summary>Reads a PostgreSQL schema (the connection's current schema) from information_schema and pg_catalog.</summary>
internal static class PostgresSchemaReader
{
    public static async Task<DatabaseSchema> ReadAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var schema = new DatabaseSchema();

        var tables = await QueryAsync(connection, """
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
            """, r => r.GetString(0));
        foreach (var name in tables.Where(t => !DatabaseSchema.IgnoredTables.Contains(t)))
        {
            schema.Table(name);
        }

        var columns = await QueryAsync(connection, """
            SELECT c.table_name, c.column_name, format_type(a.atttypid, a.atttypmod), c.is_nullable = 'YES', c.column_default,
                   CASE WHEN c.is_identity = 'YES' THEN 'identity ' || lower(c.identity_generation)
                        WHEN c.is_generated = 'ALWAYS' THEN 'computed: ' || c.generation_expression END
            FROM information_schema.columns c
            JOIN pg_catalog.pg_namespace n ON n.nspname = c.table_schema
            JOIN pg_catalog.pg_class t ON t.relnamespace = n.oid AND t.relname = c.table_name
            JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attname = c.column_name
            WHERE c.table_schema = current_schema()
            """, r => (Table: r.GetString(0), Column: new ColumnSchema(r.GetString(1), r.GetString(2), r.GetBoolean(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5))));
        foreach (var (table, column) in columns.Where(c => schema.Tables.ContainsKey(c.Table)))
        {
            schema.Tables[table].Columns[column.Name] = column;
        }

        var constraints = await QueryAsync(connection, """
            SELECT con.conname, con.contype, t.relname,
                   ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
                   f.relname,
                   ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord),
                   con.confdeltype, con.confupdtype, pg_get_constraintdef(con.oid, true)
            FROM pg_catalog.pg_constraint con
            JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
            LEFT JOIN pg_catalog.pg_class f ON f.oid = con.confrelid
            WHERE n.nspname = current_schema() AND con.contype IN ('p', 'f', 'c')
            """, r => (Name: r.GetString(0), Type: r.GetChar(1), Table: r.GetString(2), Columns: r.GetFieldValue<string[]>(3),
                Principal: r.IsDBNull(4) ? null : r.GetString(4), PrincipalColumns: r.GetFieldValue<string[]>(5),
                OnDelete: r.GetChar(6), OnUpdate: r.GetChar(7), Definition: r.GetString(8)));
        foreach (var constraint in constraints.Where(c => schema.Tables.ContainsKey(c.Table)))
        {
            var table = schema.Tables[constraint.Table];
            switch (constraint.Type)
            {
                case 'p':
                    table.PrimaryKey = new KeySchema(constraint.Name, constraint.Columns);
                    break;
                case 'f':
                    table.ForeignKeys.Add(new ForeignKeySchema(constraint.Name, constraint.Columns, constraint.Principal!,
                        constraint.PrincipalColumns, Action(constraint.OnDelete), Action(constraint.OnUpdate)));
                    break;
                default:
                    table.Checks[constraint.Name] = constraint.Definition;
                    break;
            }
        }

        var indexes = await QueryAsync(connection, """
            SELECT i.relname, t.relname, ix.indisunique, am.amname, pg_get_expr(ix.indpred, ix.indrelid),
                   ARRAY(SELECT CASE WHEN k.attnum = 0 THEN pg_get_indexdef(ix.indexrelid, k.ord::int, true) ELSE a.attname::text END
                                || CASE WHEN pg_index_column_has_property(ix.indexrelid, k.ord::int, 'desc') THEN ' DESC' ELSE '' END
                         FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                         LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                         WHERE k.ord <= ix.indnkeyatts ORDER BY k.ord),
                   ARRAY(SELECT a.attname::text
                         FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                         WHERE k.ord > ix.indnkeyatts ORDER BY k.ord),
                   EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con WHERE con.conindid = ix.indexrelid AND con.contype = 'u')
            FROM pg_catalog.pg_index ix
            JOIN pg_catalog.pg_class i ON i.oid = ix.indexrelid
            JOIN pg_catalog.pg_class t ON t.oid = ix.indrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_catalog.pg_am am ON am.oid = i.relam
            WHERE n.nspname = current_schema() AND NOT ix.indisprimary
            """, r => (Table: r.GetString(1), Index: new IndexSchema(r.GetString(0), r.GetFieldValue<string[]>(5), r.GetBoolean(2),
                r.IsDBNull(4) ? null : r.GetString(4), r.GetBoolean(7) ? "unique constraint" : "index", r.GetString(3),
                r.GetFieldValue<string[]>(6))));
        foreach (var (table, index) in indexes.Where(i => schema.Tables.ContainsKey(i.Table)))
        {
            schema.Tables[table].Indexes[index.Name] = index;
        }

        return schema;
    }

    private static string Action(char code) => code switch
    {
        'a' => "NO ACTION",
        'r' => "RESTRICT",
        'c' => "CASCADE",
        'n' => "SET NULL",
        'd' => "SET DEFAULT",
        _ => code.ToString(CultureInfo.InvariantCulture),
    };

    private static async Task<List<T>> QueryAsync<T>(NpgsqlConnection connection, string sql, Func<DbDataReader, T> read)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
