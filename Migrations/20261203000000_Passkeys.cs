using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// Passkeys (WebAuthn credentials): ASP.NET Core Identity's schema version 3 table, <c>AspNetUserPasskeys</c>, one row
/// per credential, keyed by the credential id (at most 1023 bytes, WebAuthn §5.1 "credential ID"; Identity bounds it at
/// 1024), its public key and counters in <c>Data</c>, a JSON document Identity's EF store reads and writes.
/// </summary>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261203000000_Passkeys")]
public sealed class Passkeys : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "AspNetUserPasskeys",
            columns: table => new
            {
                CredentialId = table.Column<byte[]>(maxLength: 1024, nullable: false),
                UserId = table.Column<string>(maxLength: ProviderNeutral.KeyLength(migrationBuilder), nullable: false),
                // The model maps Identity's passkey data as a JSON column: jsonb on PostgreSQL, text elsewhere.
                Data = table.Column<string>(type: migrationBuilder.IsNpgsql() ? "jsonb" : null, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_AspNetUserPasskeys", x => x.CredentialId);
                table.ForeignKey(
                    name: "FK_AspNetUserPasskeys_AspNetUsers_UserId",
                    column: x => x.UserId,
                    principalTable: "AspNetUsers",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex(name: "IX_AspNetUserPasskeys_UserId", table: "AspNetUserPasskeys", column: "UserId");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable(name: "AspNetUserPasskeys");
    }
}
