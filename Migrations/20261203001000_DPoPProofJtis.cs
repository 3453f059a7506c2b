using IdentityServer.Data;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// DPoP (RFC 9449): the proofs already accepted, by the hash of their key thumbprint and jti, so a replayed proof is
/// refused on every instance (§11.1). A row lives only as long as its proof's iat window; pruning deletes it after.
/// </summary>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261203001000_DPoPProofJtis")]
public sealed class DPoPProofJtis : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "DPoPProofJtis",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                ExpirationDate = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_DPoPProofJtis", x => x.Id));
        migrationBuilder.CreateIndex(name: "IX_DPoPProofJtis_ExpirationDate", table: "DPoPProofJtis", column: "ExpirationDate");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable(name: "DPoPProofJtis");
    }
}
