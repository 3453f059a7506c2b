using IdentityServer.Data;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// User administration: a person an admin forced to reset their password keeps the time of it
/// (<c>AspNetUsers.PasswordChangeRequiredAt</c>, null otherwise) until they choose a new one at their next sign-in, and a
/// scope lists the custom user claim types it releases (<c>Scopes.Claims</c>, a JSON array; existing scopes release none).
/// </summary>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261126000000_UserAdministration")]
public sealed class UserAdministration : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<DateTime>(name: "PasswordChangeRequiredAt", table: "AspNetUsers", nullable: true);
        migrationBuilder.AddColumn<string>(name: "Claims", table: "Scopes", nullable: false, defaultValue: "[]");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        if (migrationBuilder.ActiveProvider == "Microsoft.EntityFrameworkCore.SqlServer")
        {
            // SQL Server first drops the column's default constraint, which EF's own operation does.
            migrationBuilder.DropColumn(name: "Claims", table: "Scopes");
            migrationBuilder.DropColumn(name: "PasswordChangeRequiredAt", table: "AspNetUsers");
            return;
        }

        // Plain ALTER TABLE ... DROP COLUMN, which SQLite (3.35+) and PostgreSQL both run: EF's SQLite provider would
        // rebuild the table instead, which needs a target model these hand-written migrations do not carry.
        migrationBuilder.Sql("ALTER TABLE \"Scopes\" DROP COLUMN \"Claims\";");
        migrationBuilder.Sql("ALTER TABLE \"AspNetUsers\" DROP COLUMN \"PasswordChangeRequiredAt\";");
    }
}
