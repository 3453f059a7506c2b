using IdentityServer.Data;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// Pushed authorization requests (RFC 9126, <c>PushedAuthorizationRequests</c>: found by the hash of their request_uri,
/// single use) and the client assertions already accepted (RFC 7523 private_key_jwt, <c>UsedClientAssertions</c>: a
/// jti is accepted once per client across every instance). Both are pruned by their expiry.
/// </summary>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261203000000_PushedRequestsAndClientAssertions")]
public sealed class PushedRequestsAndClientAssertions : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);

        migrationBuilder.CreateTable(
            name: "PushedAuthorizationRequests",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                ReferenceId = table.Column<string>(maxLength: 100, nullable: false),
                ClientId = table.Column<string>(maxLength: 100, nullable: false),
                Parameters = table.Column<string>(nullable: false),
                CreationDate = table.Column<DateTime>(nullable: false),
                ExpirationDate = table.Column<DateTime>(nullable: false),
                ClaimedAt = table.Column<DateTime>(nullable: true),
                BindingHash = table.Column<string>(maxLength: 100, nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_PushedAuthorizationRequests", x => x.Id));

        migrationBuilder.CreateIndex(name: "IX_PushedAuthorizationRequests_ReferenceId", table: "PushedAuthorizationRequests", column: "ReferenceId",
            unique: true, filter: ProviderNeutral.NoFilter);
        migrationBuilder.CreateIndex(name: "IX_PushedAuthorizationRequests_ExpirationDate", table: "PushedAuthorizationRequests", column: "ExpirationDate");

        migrationBuilder.CreateTable(
            name: "UsedClientAssertions",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 100, nullable: false),
                ClientId = table.Column<string>(maxLength: 100, nullable: false),
                ExpirationDate = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_UsedClientAssertions", x => x.Id));

        migrationBuilder.CreateIndex(name: "IX_UsedClientAssertions_ExpirationDate", table: "UsedClientAssertions", column: "ExpirationDate");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable(name: "UsedClientAssertions");
        migrationBuilder.DropTable(name: "PushedAuthorizationRequests");
    }
}
