using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace IdentityServer.Tests.Data;

/// <summary>T-SQL as SQL Server 2022 parses it, offline: no SQL Server runs on this machine or on CI.</summary>
internal static class TSql
{
    /// <summary>Parses a script (GO-separated batches allowed) with QUOTED_IDENTIFIER on, as SqlClient connects.</summary>
    public static TSqlScript Parse(string sql)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        using var reader = new StringReader(sql);
        var script = (TSqlScript)parser.Parse(reader, out var errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Not valid T-SQL:" + Environment.NewLine
                + string.Join(Environment.NewLine, errors.Select(e => $"  line {e.Line}: {e.Message}"))
                + Environment.NewLine + sql);
        }

        return script;
    }

    /// <summary>The source text of a fragment, as written.</summary>
    public static string Text(TSqlFragment fragment) =>
        string.Concat(Enumerable.Range(fragment.FirstTokenIndex, fragment.LastTokenIndex - fragment.FirstTokenIndex + 1)
            .Select(i => fragment.ScriptTokenStream[i].Text));
}

/// <summary>SQL Server would refuse this statement (the error it would raise, in our words).</summary>
internal sealed class SqlServerRefusal(string message) : Exception(message);

/// <summary>
/// Runs the DDL of a T-SQL script against an empty, imaginary database and describes the schema it leaves, in the
/// terms of <see cref="DatabaseSchema"/>, so that a script of migrations and the model's create script can be compared
/// without a SQL Server. It knows the statements EF Core's SQL Server generator writes (CREATE/DROP TABLE, CREATE/DROP
/// INDEX, ALTER TABLE ADD/DROP, the default-constraint lookup before a DROP COLUMN) and refuses, as SQL Server does:
/// a key or index on a (max) column, a second cascade path between two tables, dropping a table another references,
/// dropping a column that is indexed or still has its default constraint, names that do not exist or already do.
/// Any other statement that could change the schema fails the run rather than pass unnoticed.
/// </summary>
internal sealed partial class SqlServerSchemaBuilder
{
    private readonly DatabaseSchema _schema = new();
    /// <summary>Columns whose DEFAULT constraint is still in place, by table.</summary>
    private readonly Dictionary<string, HashSet<string>> _defaults = new(StringComparer.Ordinal);
    /// <summary>The column named by the last default-constraint lookup EF writes before dropping a column.</summary>
    private (string Table, string Column)? _defaultLookup;

    public static DatabaseSchema Run(string sql)
    {
        var builder = new SqlServerSchemaBuilder();
        foreach (var statement in TSql.Parse(sql).Batches.SelectMany(b => b.Statements))
        {
            builder.Execute(statement);
        }

        foreach (var ignored in DatabaseSchema.IgnoredTables)
        {
            builder._schema.Tables.Remove(ignored);
        }

        return builder._schema;
    }

    private void Execute(TSqlStatement statement)
    {
        switch (statement)
        {
            case CreateTableStatement create:
                CreateTable(create);
                break;
            case DropTableStatement drop:
                foreach (var name in drop.Objects)
                {
                    DropTable(name.BaseIdentifier.Value);
                }

                break;
            case CreateIndexStatement index:
                CreateIndex(index);
                break;
            case DropIndexStatement drop:
                foreach (var clause in drop.DropIndexClauses.Cast<DropIndexClause>())
                {
                    var table = Table(clause.Object.BaseIdentifier.Value);
                    if (!table.Indexes.Remove(clause.Index.Value))
                    {
                        throw new SqlServerRefusal($"DROP INDEX {clause.Index.Value}: no such index on {table.Name}");
                    }
                }

                break;
            case AlterTableAddTableElementStatement add:
                AddElements(Table(add.SchemaObjectName.BaseIdentifier.Value), add.Definition);
                break;
            case AlterTableDropTableElementStatement drop:
                foreach (var element in drop.AlterTableDropTableElements)
                {
                    DropElement(Table(drop.SchemaObjectName.BaseIdentifier.Value), element);
                }

                break;
            case IfStatement conditional:
                // EF's own guards (IF OBJECT_ID(...) IS NULL, IF @var IS NOT NULL): the branch that runs on a fresh database.
                Execute(conditional.ThenStatement);
                break;
            case BeginEndBlockStatement block:
                foreach (var inner in block.StatementList.Statements)
                {
                    Execute(inner);
                }

                break;
            case SelectStatement select:
                _defaultLookup = DefaultConstraintLookup().Match(TSql.Text(select)) is { Success: true } m
                    ? (m.Groups[1].Value, m.Groups[2].Value)
                    : null;
                break;
            case ExecuteStatement execute:
                Execute(execute);
                break;
            case InsertStatement or UpdateStatement or DeleteStatement or DeclareVariableStatement
                or BeginTransactionStatement or CommitTransactionStatement or PredicateSetStatement:
                break; // data, variables and transactions: the schema stays as it is
            default:
                throw new NotSupportedException($"Unknown statement {statement.GetType().Name}: {TSql.Text(statement)}");
        }
    }

    private void CreateTable(CreateTableStatement create)
    {
        var name = create.SchemaObjectName.BaseIdentifier.Value;
        if (_schema.Tables.ContainsKey(name))
        {
            throw new SqlServerRefusal($"CREATE TABLE {name}: there is already an object named '{name}'");
        }

        var table = _schema.Table(name);
        AddElements(table, create.Definition);
    }

    private void AddElements(TableSchema table, TableDefinition definition)
    {
        foreach (var column in definition.ColumnDefinitions)
        {
            AddColumn(table, column);
        }

        foreach (var constraint in definition.TableConstraints)
        {
            switch (constraint)
            {
                case UniqueConstraintDefinition { IsPrimaryKey: true } key:
                    var columns = key.Columns.Select(c => ColumnName(c.Column)).ToList();
                    RequireIndexable(table, columns, $"PRIMARY KEY {key.ConstraintIdentifier?.Value}");
                    table.PrimaryKey = new KeySchema(key.ConstraintIdentifier?.Value, columns);
                    break;
                case ForeignKeyConstraintDefinition foreignKey:
                    AddForeignKey(table, foreignKey);
                    break;
                default:
                    throw new NotSupportedException($"Unknown constraint {TSql.Text(constraint)}");
            }
        }
    }

    private void AddColumn(TableSchema table, ColumnDefinition column)
    {
        var name = column.ColumnIdentifier.Value;
        if (table.Columns.ContainsKey(name))
        {
            throw new SqlServerRefusal($"{table.Name}.{name}: column names in each table must be unique");
        }

        var nullable = column.Constraints.OfType<NullableConstraintDefinition>().SingleOrDefault()?.Nullable ?? true;
        var identity = column.IdentityOptions is { } options
            ? $"identity({Seed(options.IdentitySeed)}, {Seed(options.IdentityIncrement)})"
            : null;
        var defaultValue = column.DefaultConstraint is { } constraint ? TSql.Text(constraint.Expression) : null;
        table.Columns[name] = new ColumnSchema(name, TypeName(column.DataType), nullable, defaultValue, identity);
        if (defaultValue is not null)
        {
            Defaults(table.Name).Add(name);
        }
    }

    private void AddForeignKey(TableSchema table, ForeignKeyConstraintDefinition foreignKey)
    {
        var principal = Table(foreignKey.ReferenceTableName.BaseIdentifier.Value);
        var columns = foreignKey.Columns.Select(c => c.Value).ToList();
        var principalColumns = foreignKey.ReferencedTableColumns.Select(c => c.Value).ToList();
        foreach (var column in columns.Where(c => !table.Columns.ContainsKey(c)))
        {
            throw new SqlServerRefusal($"FOREIGN KEY {foreignKey.ConstraintIdentifier?.Value}: no column {table.Name}.{column}");
        }

        if (principal.PrimaryKey is null || !principal.PrimaryKey.Columns.SequenceEqual(principalColumns))
        {
            throw new SqlServerRefusal($"FOREIGN KEY {foreignKey.ConstraintIdentifier?.Value}: {principal.Name} has no primary key on ({string.Join(", ", principalColumns)})");
        }

        table.ForeignKeys.Add(new ForeignKeySchema(foreignKey.ConstraintIdentifier?.Value, columns, principal.Name, principalColumns,
            Action(foreignKey.DeleteAction), Action(foreignKey.UpdateAction)));
        CascadePaths.Check(_schema, foreignKey.ConstraintIdentifier?.Value ?? table.Name);
    }

    private void CreateIndex(CreateIndexStatement index)
    {
        var table = Table(index.OnName.BaseIdentifier.Value);
        var name = index.Name.Value;
        if (table.Indexes.ContainsKey(name) || table.PrimaryKey?.Name == name)
        {
            throw new SqlServerRefusal($"CREATE INDEX {name}: the table {table.Name} already has an index of that name");
        }

        var columns = index.Columns.Select(c => ColumnName(c.Column)).ToList();
        RequireIndexable(table, columns, $"INDEX {name}");
        table.Indexes[name] = new IndexSchema(
            name,
            index.Columns.Select(c => c.SortOrder == SortOrder.Descending ? ColumnName(c.Column) + " DESC" : ColumnName(c.Column)).ToList(),
            index.Unique,
            index.FilterPredicate is null ? null : TSql.Text(index.FilterPredicate),
            "index",
            index.Clustered == true ? "clustered" : null,
            index.IncludeColumns.Count == 0 ? null : index.IncludeColumns.Select(ColumnName).ToList());
    }

    private void DropTable(string name)
    {
        var table = Table(name);
        var referencing = _schema.Tables.Values.Where(t => t.Name != name).SelectMany(t => t.ForeignKeys).FirstOrDefault(k => k.PrincipalTable == name);
        if (referencing is not null)
        {
            throw new SqlServerRefusal($"DROP TABLE {name}: it is referenced by the FOREIGN KEY constraint {referencing.Name}");
        }

        _schema.Tables.Remove(table.Name);
        _defaults.Remove(table.Name);
    }

    private void DropElement(TableSchema table, AlterTableDropTableElement element)
    {
        var name = element.Name.Value;
        if (element.TableElementType != TableElementType.Column)
        {
            throw new NotSupportedException($"ALTER TABLE {table.Name} DROP {element.TableElementType} {name}");
        }

        if (!table.Columns.Remove(name))
        {
            throw new SqlServerRefusal($"ALTER TABLE {table.Name} DROP COLUMN {name}: no such column");
        }

        if (Defaults(table.Name).Contains(name))
        {
            throw new SqlServerRefusal($"ALTER TABLE {table.Name} DROP COLUMN {name}: the column's DEFAULT constraint depends on it");
        }

        var index = table.Indexes.Values.FirstOrDefault(i => i.Columns.Any(c => c.Split(' ')[0] == name));
        if (index is not null || table.PrimaryKey?.Columns.Contains(name) == true)
        {
            throw new SqlServerRefusal($"ALTER TABLE {table.Name} DROP COLUMN {name}: the index {index?.Name ?? table.PrimaryKey?.Name} depends on it");
        }
    }

    /// <summary>
    /// EXEC: the dynamic ALTER TABLE ... DROP CONSTRAINT that EF writes after looking up a column's default constraint
    /// drops that default; sp_rename renames. Other procedures are not expected.
    /// </summary>
    private void Execute(ExecuteStatement execute)
    {
        switch (execute.ExecuteSpecification.ExecutableEntity)
        {
            case ExecutableStringList dynamic when TSql.Text(dynamic).Contains("DROP CONSTRAINT", StringComparison.OrdinalIgnoreCase)
                && _defaultLookup is var (table, column):
                Defaults(table).Remove(column);
                _defaultLookup = null;
                break;
            default:
                throw new NotSupportedException($"Unknown EXEC: {TSql.Text(execute)}");
        }
    }

    private TableSchema Table(string name) =>
        _schema.Tables.TryGetValue(name, out var table) ? table : throw new SqlServerRefusal($"Invalid object name '{name}'");

    private HashSet<string> Defaults(string table)
    {
        if (!_defaults.TryGetValue(table, out var columns))
        {
            columns = new HashSet<string>(StringComparer.Ordinal);
            _defaults.Add(table, columns);
        }

        return columns;
    }

    /// <summary>SQL Server cannot use a (max) column, nor one that does not exist, as a key column of an index.</summary>
    private static void RequireIndexable(TableSchema table, IReadOnlyList<string> columns, string what)
    {
        foreach (var name in columns)
        {
            if (!table.Columns.TryGetValue(name, out var column))
            {
                throw new SqlServerRefusal($"{what}: column name '{name}' does not exist in {table.Name}");
            }

            if (column.Type.EndsWith("(max)", StringComparison.Ordinal) || column.Type is "text" or "ntext" or "image" or "xml")
            {
                throw new SqlServerRefusal($"{what}: column '{name}' in table '{table.Name}' is of a type ({column.Type}) that is invalid for use as a key column in an index");
            }
        }
    }

    private static string TypeName(DataTypeReference type)
    {
        var name = type.Name.BaseIdentifier.Value.ToLowerInvariant();
        return type is ParameterizedDataTypeReference { Parameters.Count: > 0 } parameterized
            ? $"{name}({string.Join(", ", parameterized.Parameters.Select(p => p is MaxLiteral ? "max" : p.Value))})"
            : name;
    }

    private static string ColumnName(ColumnReferenceExpression column) => column.MultiPartIdentifier.Identifiers[^1].Value;

    private static string Seed(ScalarExpression? value) =>
        value is null ? "1" : TSql.Text(value).Trim('(', ')').Trim();

    private static string Action(DeleteUpdateAction action) => action switch
    {
        DeleteUpdateAction.Cascade => "CASCADE",
        DeleteUpdateAction.SetNull => "SET NULL",
        DeleteUpdateAction.SetDefault => "SET DEFAULT",
        _ => "NO ACTION",
    };

    /// <summary>EF's lookup of a column's default constraint: ... OBJECT_ID(N'[Table]') AND [c].[name] = N'Column' ...</summary>
    [GeneratedRegex(@"OBJECT_ID\(N'\[?([^\]']+)\]?'\)\s+AND\s+\[c\]\.\[name\]\s*=\s*N'([^']+)'", RegexOptions.IgnoreCase)]
    private static partial Regex DefaultConstraintLookup();
}

/// <summary>
/// SQL Server refuses a foreign key whose referential action (anything but NO ACTION) would give a table a second
/// path of such actions from another table, or a cycle: "may cause cycles or multiple cascade paths".
/// </summary>
internal static class CascadePaths
{
    public static void Check(DatabaseSchema schema, string constraint)
    {
        // principal -> dependents, one edge per acting foreign key
        var edges = schema.Tables.Values
            .SelectMany(t => t.ForeignKeys.Where(k => k.OnDelete != "NO ACTION" || k.OnUpdate != "NO ACTION").Select(k => (From: k.PrincipalTable, To: t.Name)))
            .ToLookup(e => e.From, e => e.To);
        foreach (var start in schema.Tables.Keys)
        {
            var paths = new Dictionary<string, int>(StringComparer.Ordinal);
            Walk(start, start, edges, paths, [start], constraint);
            var doubled = paths.FirstOrDefault(p => p.Value > 1);
            if (doubled.Key is not null)
            {
                throw new SqlServerRefusal(string.Create(CultureInfo.InvariantCulture,
                    $"Introducing FOREIGN KEY constraint '{constraint}' may cause cycles or multiple cascade paths ({doubled.Value} paths from {start} to {doubled.Key})"));
            }
        }
    }

    private static void Walk(string start, string table, ILookup<string, string> edges, Dictionary<string, int> paths, HashSet<string> onPath, string constraint)
    {
        foreach (var next in edges[table])
        {
            if (!onPath.Add(next))
            {
                throw new SqlServerRefusal($"Introducing FOREIGN KEY constraint '{constraint}' may cause cycles or multiple cascade paths (a cycle through {next})");
            }

            paths[next] = paths.GetValueOrDefault(next) + 1;
            Walk(start, next, edges, paths, onPath, constraint);
            onPath.Remove(next);
        }
    }
}
