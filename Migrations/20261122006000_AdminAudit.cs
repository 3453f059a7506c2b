using IdentityServer.Data;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// Administration: every admin change is recorded (AdminAuditEntries), and the initial access tokens that
/// guard dynamic client registration (RFC 7591 §3) are stored as hashes (InitialAccessTokens).
/// </summary>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261122006000_AdminAudit")]
public sealed class AdminAudit : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);

        migrationBuilder.CreateTable(
            name: "AdminAuditEntries",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                Timestamp = table.Column<DateTime>(nullable: false),
                ActorId = table.Column<string>(maxLength: 450, nullable: false),
                ActorName = table.Column<string>(maxLength: 256, nullable: true),
                Action = table.Column<string>(maxLength: 100, nullable: false),
                Target = table.Column<string>(maxLength: 300, nullable: false),
                Details = table.Column<string>(nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_AdminAuditEntries", x => x.Id));

        migrationBuilder.CreateIndex(name: "IX_AdminAuditEntries_Timestamp", table: "AdminAuditEntries", column: "Timestamp");
        migrationBuilder.CreateIndex(name: "IX_AdminAuditEntries_Target", table: "AdminAuditEntries", column: "Target");

        migrationBuilder.CreateTable(
            name: "InitialAccessTokens",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                ReferenceId = table.Column<string>(maxLength: 100, nullable: false),
                Description = table.Column<string>(maxLength: 200, nullable: true),
                CreatedBy = table.Column<string>(maxLength: 450, nullable: false),
                CreationDate = table.Column<DateTime>(nullable: false),
                ExpirationDate = table.Column<DateTime>(nullable: false),
                RemainingUses = table.Column<int>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_InitialAccessTokens", x => x.Id));

        migrationBuilder.CreateIndex(name: "IX_InitialAccessTokens_ReferenceId", table: "InitialAccessTokens", column: "ReferenceId", unique: true, filter: ProviderNeutral.NoFilter);
        migrationBuilder.CreateIndex(name: "IX_InitialAccessTokens_ExpirationDate", table: "InitialAccessTokens", column: "ExpirationDate");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable(name: "InitialAccessTokens");
        migrationBuilder.DropTable(name: "AdminAuditEntries");
    }
}
