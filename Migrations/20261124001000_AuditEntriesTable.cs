using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// One audit sink: the table that holds every audit entry (security events since the AuditLog migration, admin changes
/// since AdminAudit) is named for what it holds, AdminAuditEntries becoming AuditEntries, its key and indexes with it.
/// The rows are kept.
/// </summary>
/// <remarks>
/// PostgreSQL renames the table, its primary key and its indexes in place (catalog changes only, whatever the size of the
/// log). SQLite cannot rename a constraint, and its catalog keeps a renamed table's <c>CONSTRAINT "PK_…"</c> text, so
/// there the table is rebuilt the way SQLite documents for schema changes: a new table, the rows copied, the old table
/// dropped, the indexes created under their new names. Down does the same the other way.
/// </remarks>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261124001000_AuditEntriesTable")]
public sealed class AuditEntriesTable : Migration
{
    private const string OldName = "AdminAuditEntries";
    private const string NewName = "AuditEntries";

    /// <summary>The indexed columns of the audit table; each index is named IX_&lt;table&gt;_&lt;columns joined by _&gt;.</summary>
    private static readonly string[][] IndexColumns =
    [
        ["Timestamp"],
        ["Target"],
        ["Kind", "Timestamp"],
        ["ActorId", "Timestamp"],
        ["ClientId", "Timestamp"],
    ];

    private static readonly string[] Columns =
        ["Id", "Timestamp", "ActorId", "ActorName", "Action", "Target", "Details", "Kind", "Outcome", "IpAddress", "ClientId"];

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        Move(migrationBuilder, OldName, NewName);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        Move(migrationBuilder, NewName, OldName);
    }

    private static void Move(MigrationBuilder migrationBuilder, string from, string to)
    {
        if (migrationBuilder.IsNpgsql())
        {
            Rename(migrationBuilder, from, to);
        }
        else
        {
            Rebuild(migrationBuilder, from, to);
        }
    }

    private static void Rename(MigrationBuilder migrationBuilder, string from, string to)
    {
        migrationBuilder.RenameTable(name: from, newName: to);
        // The primary key's index is renamed with its constraint.
        migrationBuilder.Sql($"ALTER TABLE \"{to}\" RENAME CONSTRAINT \"PK_{from}\" TO \"PK_{to}\";");
        foreach (var columns in IndexColumns)
        {
            migrationBuilder.RenameIndex(name: IndexName(from, columns), newName: IndexName(to, columns), table: to);
        }
    }

    private static void Rebuild(MigrationBuilder migrationBuilder, string from, string to)
    {
        migrationBuilder.CreateTable(
            name: to,
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                Timestamp = table.Column<DateTime>(nullable: false),
                ActorId = table.Column<string>(maxLength: 450, nullable: false),
                ActorName = table.Column<string>(maxLength: 256, nullable: true),
                Action = table.Column<string>(maxLength: 100, nullable: false),
                Target = table.Column<string>(maxLength: 300, nullable: false),
                Details = table.Column<string>(nullable: true),
                Kind = table.Column<string>(maxLength: 50, nullable: false, defaultValue: AuditKinds.Admin),
                Outcome = table.Column<string>(maxLength: 20, nullable: false, defaultValue: AuditOutcomes.Success),
                IpAddress = table.Column<string>(maxLength: 64, nullable: true),
                ClientId = table.Column<string>(maxLength: 100, nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_" + to, x => x.Id));

        var columns = string.Join(", ", Columns.Select(c => $"\"{c}\""));
        migrationBuilder.Sql($"INSERT INTO \"{to}\" ({columns}) SELECT {columns} FROM \"{from}\";");
        migrationBuilder.DropTable(name: from);
        foreach (var indexColumns in IndexColumns)
        {
            migrationBuilder.CreateIndex(name: IndexName(to, indexColumns), table: to, columns: indexColumns);
        }
    }

    private static string IndexName(string table, string[] columns) => $"IX_{table}_{string.Join('_', columns)}";
}
