using IdentityServer.Data;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// Sign-in sessions are stored under the SHA-256 of the key their cookie carries (<c>Id</c>), no longer under the key
/// itself, and keep their public id, the <c>sid</c> of ID and logout tokens, in a column of its own (<c>Sid</c>, indexed:
/// logout and "Devices and apps" end a session by it). A database read then yields nothing to put in a cookie.
/// </summary>
/// <remarks>
/// Existing sessions end: their cookies carry the raw id as key, and hashing the stored ids in SQL is not possible on
/// SQLite (no SHA-256 function). The table is recreated on both providers, so everyone signs in again once after the
/// upgrade (docs/operations.md). Grants and refresh tokens are kept: apps stay signed in until their tokens end. Down
/// recreates the previous table, empty, for the same reason.
/// </remarks>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261125000000_HashedSessionKeys")]
public sealed class HashedSessionKeys : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable(name: "Sessions");
        Create(migrationBuilder, withSid: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable(name: "Sessions");
        Create(migrationBuilder, withSid: false);
    }

    private static void Create(MigrationBuilder migrationBuilder, bool withSid)
    {
        if (withSid)
        {
            migrationBuilder.CreateTable(
                name: "Sessions",
                columns: table => new
                {
                    Id = table.Column<string>(maxLength: 64, nullable: false),
                    Sid = table.Column<string>(maxLength: 64, nullable: false),
                    Subject = table.Column<string>(maxLength: 450, nullable: false),
                    Ticket = table.Column<byte[]>(nullable: false),
                    CreationDate = table.Column<DateTime>(nullable: false),
                    LastSeenDate = table.Column<DateTime>(nullable: false),
                    AbsoluteExpirationDate = table.Column<DateTime>(nullable: false),
                    ExpirationDate = table.Column<DateTime>(nullable: false),
                    UserAgent = table.Column<string>(maxLength: 512, nullable: true),
                    IpAddress = table.Column<string>(maxLength: 64, nullable: true),
                },
                constraints: table => table.PrimaryKey("PK_Sessions", x => x.Id));
            migrationBuilder.CreateIndex(name: "IX_Sessions_Sid", table: "Sessions", column: "Sid");
        }
        else
        {
            migrationBuilder.CreateTable(
                name: "Sessions",
                columns: table => new
                {
                    Id = table.Column<string>(maxLength: 64, nullable: false),
                    Subject = table.Column<string>(maxLength: 450, nullable: false),
                    Ticket = table.Column<byte[]>(nullable: false),
                    CreationDate = table.Column<DateTime>(nullable: false),
                    LastSeenDate = table.Column<DateTime>(nullable: false),
                    AbsoluteExpirationDate = table.Column<DateTime>(nullable: false),
                    ExpirationDate = table.Column<DateTime>(nullable: false),
                    UserAgent = table.Column<string>(maxLength: 512, nullable: true),
                    IpAddress = table.Column<string>(maxLength: 64, nullable: true),
                },
                constraints: table => table.PrimaryKey("PK_Sessions", x => x.Id));
        }

        migrationBuilder.CreateIndex(name: "IX_Sessions_Subject", table: "Sessions", column: "Subject");
        migrationBuilder.CreateIndex(name: "IX_Sessions_ExpirationDate", table: "Sessions", column: "ExpirationDate");
    }
}
