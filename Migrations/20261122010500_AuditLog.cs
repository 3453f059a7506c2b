using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// Security hardening: the admin audit table becomes the general audit log. Each entry gains its kind (admin,
/// sign_in, external_login, consent, token, session), its outcome, the caller's address and the client concerned. The
/// rows already there are admin changes that succeeded, which the column defaults say.
/// </summary>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261122010500_AuditLog")]
public sealed class AuditLogColumns : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<string>(name: "Kind", table: "AdminAuditEntries", maxLength: 50, nullable: false, defaultValue: AuditKinds.Admin);
        migrationBuilder.AddColumn<string>(name: "Outcome", table: "AdminAuditEntries", maxLength: 20, nullable: false, defaultValue: AuditOutcomes.Success);
        migrationBuilder.AddColumn<string>(name: "IpAddress", table: "AdminAuditEntries", maxLength: 64, nullable: true);
        migrationBuilder.AddColumn<string>(name: "ClientId", table: "AdminAuditEntries", maxLength: 100, nullable: true);
        migrationBuilder.CreateIndex(name: "IX_AdminAuditEntries_Kind_Timestamp", table: "AdminAuditEntries", columns: ["Kind", "Timestamp"]);
        migrationBuilder.CreateIndex(name: "IX_AdminAuditEntries_ActorId_Timestamp", table: "AdminAuditEntries", columns: ["ActorId", "Timestamp"]);
        migrationBuilder.CreateIndex(name: "IX_AdminAuditEntries_ClientId_Timestamp", table: "AdminAuditEntries", columns: ["ClientId", "Timestamp"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropIndex(name: "IX_AdminAuditEntries_ClientId_Timestamp", table: "AdminAuditEntries");
        migrationBuilder.DropIndex(name: "IX_AdminAuditEntries_ActorId_Timestamp", table: "AdminAuditEntries");
        migrationBuilder.DropIndex(name: "IX_AdminAuditEntries_Kind_Timestamp", table: "AdminAuditEntries");
        // Plain ALTER TABLE ... DROP COLUMN, which SQLite (3.35+) and PostgreSQL both run: EF's SQLite provider would
        // rebuild the table instead, which needs a target model these hand-written migrations do not carry. SQL Server
        // first has to drop the columns' default constraints, which its DropColumn does.
        foreach (var column in new[] { "ClientId", "IpAddress", "Outcome", "Kind" })
        {
            if (migrationBuilder.IsSqlServer())
            {
                migrationBuilder.DropColumn(name: column, table: "AdminAuditEntries");
            }
            else
            {
                migrationBuilder.Sql($"ALTER TABLE \"AdminAuditEntries\" DROP COLUMN \"{column}\";");
            }
        }
    }
}
