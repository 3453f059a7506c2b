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
        migrationBuilder.DropColumn(name: "Claims", table: "Scopes");
        migrationBuilder.DropColumn(name: "PasswordChangeRequiredAt", table: "AspNetUsers");
    }
}
