using IdentityServer.Data;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Migrations;

/// <summary>
/// The device authorization grant (RFC 8628): one row per device authorization request, its device_code and user_code
/// stored only as hashes (both unique), its polling state (interval, next allowed poll), and what the person decided.
/// Deleted with its client; pruned once expired (ExpirationDate index).
/// </summary>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261203000000_DeviceCodes")]
public sealed class DeviceCodes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "DeviceCodes",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                ApplicationId = table.Column<string>(maxLength: 64, nullable: false),
                DeviceCodeHash = table.Column<string>(maxLength: 100, nullable: false),
                UserCodeHash = table.Column<string>(maxLength: 100, nullable: false),
                Status = table.Column<string>(maxLength: 20, nullable: false),
                Subject = table.Column<string>(maxLength: 450, nullable: true),
                Payload = table.Column<string>(nullable: true),
                CreationDate = table.Column<DateTime>(nullable: false),
                ExpirationDate = table.Column<DateTime>(nullable: false),
                Interval = table.Column<int>(nullable: false),
                NextPollDate = table.Column<DateTime>(nullable: false),
                ConcurrencyToken = table.Column<string>(maxLength: 64, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_DeviceCodes", x => x.Id);
                table.ForeignKey(
                    name: "FK_DeviceCodes_Applications_ApplicationId",
                    column: x => x.ApplicationId,
                    principalTable: "Applications",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex(name: "IX_DeviceCodes_DeviceCodeHash", table: "DeviceCodes", column: "DeviceCodeHash", unique: true, filter: ProviderNeutral.NoFilter);
        migrationBuilder.CreateIndex(name: "IX_DeviceCodes_UserCodeHash", table: "DeviceCodes", column: "UserCodeHash", unique: true, filter: ProviderNeutral.NoFilter);
        migrationBuilder.CreateIndex(name: "IX_DeviceCodes_ApplicationId", table: "DeviceCodes", column: "ApplicationId");
        migrationBuilder.CreateIndex(name: "IX_DeviceCodes_ExpirationDate", table: "DeviceCodes", column: "ExpirationDate");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable(name: "DeviceCodes");
    }
}
