using IdentityServer.Data;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>Server-side sign-in sessions: the cookie carries only the session id.</summary>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261122001000_Sessions")]
public sealed class Sessions : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);

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

        migrationBuilder.CreateIndex(name: "IX_Sessions_Subject", table: "Sessions", column: "Subject");
        migrationBuilder.CreateIndex(name: "IX_Sessions_ExpirationDate", table: "Sessions", column: "ExpirationDate");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable(name: "Sessions");
    }
}
