using IdentityServer.Data;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// Pruning walks the tokens older than its retention window by creation date, a window of BatchSize rows per
/// statement, so each batch reads an index range instead of scanning the table. The expiry index cannot serve it: a
/// revoked token, or one whose grant is dead, may expire far in the future.
/// </summary>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261122008000_PruningIndexes")]
public sealed class PruningIndexes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateIndex(name: "IX_Tokens_CreationDate", table: "Tokens", column: "CreationDate");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropIndex(name: "IX_Tokens_CreationDate", table: "Tokens");
    }
}
