using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Microsoft.EntityFrameworkCore.Migrations.Operations.Builders;

namespace IdentityServer.Migrations;

/// <summary>
/// The first schema: the OAuth tables (Applications, Authorizations, Tokens, Scopes, RevokedAccessTokens) and the
/// ASP.NET Core Identity tables of <c>IdentityDbContext&lt;ApplicationUser&gt;</c> (schema version 1: no passkeys table).
/// </summary>
/// <remarks>
/// Written by hand and provider-neutral: no column gives a store type, so each provider maps the CLR type and maximum
/// length itself (SQLite: TEXT/INTEGER; PostgreSQL: character varying(n)/text/timestamp with time zone/boolean/integer),
/// exactly as it does for the model; SQL Server: nvarchar(n)/nvarchar(max)/datetime2/bit/int, with the few differences
/// <see cref="ProviderNeutral"/> spells out. Integer identity keys carry the annotations of every provider.
/// SchemaDriftTests proves that this produces the same schema as the model on SQLite, PostgreSQL and SQL Server.
/// </remarks>
[DbContext(typeof(IdentityDbContext))]
[Migration("20261122000000_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        // ASP.NET Core Identity's string keys have no maximum length in the model (see ProviderNeutral.KeyLength).
        var keyLength = ProviderNeutral.KeyLength(migrationBuilder);

        migrationBuilder.CreateTable(
            name: "Applications",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                ClientId = table.Column<string>(maxLength: 100, nullable: false),
                ClientSecretHash = table.Column<string>(maxLength: 128, nullable: true),
                PreviousClientSecretHash = table.Column<string>(maxLength: 128, nullable: true),
                PreviousSecretExpiresAt = table.Column<DateTime>(nullable: true),
                ClientType = table.Column<string>(maxLength: 32, nullable: false),
                ConsentType = table.Column<string>(maxLength: 32, nullable: false),
                DisplayName = table.Column<string>(maxLength: 200, nullable: false),
                LogoUri = table.Column<string>(maxLength: 2048, nullable: true),
                ClientUri = table.Column<string>(maxLength: 2048, nullable: true),
                Enabled = table.Column<bool>(nullable: false),
                RedirectUris = table.Column<string>(nullable: false),
                PostLogoutRedirectUris = table.Column<string>(nullable: false),
                Permissions = table.Column<string>(nullable: false),
                Requirements = table.Column<string>(nullable: false),
                Settings = table.Column<string>(nullable: false),
                CreationDate = table.Column<DateTime>(nullable: false),
                ConcurrencyToken = table.Column<string>(maxLength: 64, nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_Applications", x => x.Id));

        migrationBuilder.CreateTable(
            name: "AspNetRoles",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: keyLength, nullable: false),
                Name = table.Column<string>(maxLength: 256, nullable: true),
                NormalizedName = table.Column<string>(maxLength: 256, nullable: true),
                ConcurrencyStamp = table.Column<string>(nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_AspNetRoles", x => x.Id));

        migrationBuilder.CreateTable(
            name: "AspNetUsers",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: keyLength, nullable: false),
                Name = table.Column<string>(maxLength: 256, nullable: true),
                Picture = table.Column<string>(maxLength: 2048, nullable: true),
                UpdatedAt = table.Column<DateTime>(nullable: false),
                UserName = table.Column<string>(maxLength: 256, nullable: true),
                NormalizedUserName = table.Column<string>(maxLength: 256, nullable: true),
                Email = table.Column<string>(maxLength: 256, nullable: true),
                NormalizedEmail = table.Column<string>(maxLength: 256, nullable: true),
                EmailConfirmed = table.Column<bool>(nullable: false),
                PasswordHash = table.Column<string>(nullable: true),
                SecurityStamp = table.Column<string>(nullable: true),
                ConcurrencyStamp = table.Column<string>(nullable: true),
                PhoneNumber = table.Column<string>(nullable: true),
                PhoneNumberConfirmed = table.Column<bool>(nullable: false),
                TwoFactorEnabled = table.Column<bool>(nullable: false),
                LockoutEnd = table.Column<DateTimeOffset>(nullable: true),
                LockoutEnabled = table.Column<bool>(nullable: false),
                AccessFailedCount = table.Column<int>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_AspNetUsers", x => x.Id));

        migrationBuilder.CreateTable(
            name: "RevokedAccessTokens",
            columns: table => new
            {
                Jti = table.Column<string>(maxLength: 100, nullable: false),
                ExpirationDate = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_RevokedAccessTokens", x => x.Jti));

        migrationBuilder.CreateTable(
            name: "Scopes",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                Name = table.Column<string>(maxLength: 200, nullable: false),
                DisplayName = table.Column<string>(maxLength: 200, nullable: true),
                Description = table.Column<string>(maxLength: 1000, nullable: true),
                Resources = table.Column<string>(nullable: false),
                ConcurrencyToken = table.Column<string>(maxLength: 64, nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_Scopes", x => x.Id));

        migrationBuilder.CreateTable(
            name: "Authorizations",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                ApplicationId = table.Column<string>(maxLength: 64, nullable: false),
                Subject = table.Column<string>(maxLength: 400, nullable: false),
                Status = table.Column<string>(maxLength: 50, nullable: false),
                Type = table.Column<string>(maxLength: 50, nullable: false),
                Scopes = table.Column<string>(nullable: false),
                SessionId = table.Column<string>(maxLength: 64, nullable: true),
                CreationDate = table.Column<DateTime>(nullable: false),
                ExpirationDate = table.Column<DateTime>(nullable: true),
                ConcurrencyToken = table.Column<string>(maxLength: 64, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Authorizations", x => x.Id);
                table.ForeignKey(
                    name: "FK_Authorizations_Applications_ApplicationId",
                    column: x => x.ApplicationId,
                    principalTable: "Applications",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "AspNetRoleClaims",
            columns: table => new
            {
                Id = IdentityColumn(table),
                RoleId = table.Column<string>(maxLength: keyLength, nullable: false),
                ClaimType = table.Column<string>(nullable: true),
                ClaimValue = table.Column<string>(nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_AspNetRoleClaims", x => x.Id);
                table.ForeignKey(
                    name: "FK_AspNetRoleClaims_AspNetRoles_RoleId",
                    column: x => x.RoleId,
                    principalTable: "AspNetRoles",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "AspNetUserClaims",
            columns: table => new
            {
                Id = IdentityColumn(table),
                UserId = table.Column<string>(maxLength: keyLength, nullable: false),
                ClaimType = table.Column<string>(nullable: true),
                ClaimValue = table.Column<string>(nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_AspNetUserClaims", x => x.Id);
                table.ForeignKey(
                    name: "FK_AspNetUserClaims_AspNetUsers_UserId",
                    column: x => x.UserId,
                    principalTable: "AspNetUsers",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "AspNetUserLogins",
            columns: table => new
            {
                LoginProvider = table.Column<string>(maxLength: keyLength, nullable: false),
                ProviderKey = table.Column<string>(maxLength: keyLength, nullable: false),
                ProviderDisplayName = table.Column<string>(nullable: true),
                UserId = table.Column<string>(maxLength: keyLength, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_AspNetUserLogins", x => new { x.LoginProvider, x.ProviderKey });
                table.ForeignKey(
                    name: "FK_AspNetUserLogins_AspNetUsers_UserId",
                    column: x => x.UserId,
                    principalTable: "AspNetUsers",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "AspNetUserRoles",
            columns: table => new
            {
                UserId = table.Column<string>(maxLength: keyLength, nullable: false),
                RoleId = table.Column<string>(maxLength: keyLength, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_AspNetUserRoles", x => new { x.UserId, x.RoleId });
                table.ForeignKey(
                    name: "FK_AspNetUserRoles_AspNetRoles_RoleId",
                    column: x => x.RoleId,
                    principalTable: "AspNetRoles",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
                table.ForeignKey(
                    name: "FK_AspNetUserRoles_AspNetUsers_UserId",
                    column: x => x.UserId,
                    principalTable: "AspNetUsers",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "AspNetUserTokens",
            columns: table => new
            {
                UserId = table.Column<string>(maxLength: keyLength, nullable: false),
                LoginProvider = table.Column<string>(maxLength: keyLength, nullable: false),
                Name = table.Column<string>(maxLength: keyLength, nullable: false),
                Value = table.Column<string>(nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_AspNetUserTokens", x => new { x.UserId, x.LoginProvider, x.Name });
                table.ForeignKey(
                    name: "FK_AspNetUserTokens_AspNetUsers_UserId",
                    column: x => x.UserId,
                    principalTable: "AspNetUsers",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "Tokens",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: 64, nullable: false),
                ApplicationId = table.Column<string>(maxLength: 64, nullable: false),
                AuthorizationId = table.Column<string>(maxLength: 64, nullable: true),
                Subject = table.Column<string>(maxLength: 400, nullable: false),
                Type = table.Column<string>(maxLength: 50, nullable: false),
                Status = table.Column<string>(maxLength: 50, nullable: false),
                ReferenceId = table.Column<string>(maxLength: 100, nullable: false),
                Payload = table.Column<string>(nullable: true),
                CreationDate = table.Column<DateTime>(nullable: false),
                ExpirationDate = table.Column<DateTime>(nullable: false),
                RedemptionDate = table.Column<DateTime>(nullable: true),
                ConcurrencyToken = table.Column<string>(maxLength: 64, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Tokens", x => x.Id);
                // SQL Server refuses a second cascade path from Applications to Tokens (the first runs through
                // Authorizations); there this key does not cascade (see IdentityDbContext).
                table.ForeignKey(
                    name: "FK_Tokens_Applications_ApplicationId",
                    column: x => x.ApplicationId,
                    principalTable: "Applications",
                    principalColumn: "Id",
                    onDelete: migrationBuilder.IsSqlServer() ? ReferentialAction.NoAction : ReferentialAction.Cascade);
                table.ForeignKey(
                    name: "FK_Tokens_Authorizations_AuthorizationId",
                    column: x => x.AuthorizationId,
                    principalTable: "Authorizations",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex(name: "IX_Applications_ClientId", table: "Applications", column: "ClientId", unique: true, filter: ProviderNeutral.NoFilter);
        migrationBuilder.CreateIndex(name: "IX_AspNetRoleClaims_RoleId", table: "AspNetRoleClaims", column: "RoleId");
        migrationBuilder.CreateIndex(name: "RoleNameIndex", table: "AspNetRoles", column: "NormalizedName", unique: true);
        migrationBuilder.CreateIndex(name: "IX_AspNetUserClaims_UserId", table: "AspNetUserClaims", column: "UserId");
        migrationBuilder.CreateIndex(name: "IX_AspNetUserLogins_UserId", table: "AspNetUserLogins", column: "UserId");
        migrationBuilder.CreateIndex(name: "IX_AspNetUserRoles_RoleId", table: "AspNetUserRoles", column: "RoleId");
        migrationBuilder.CreateIndex(name: "EmailIndex", table: "AspNetUsers", column: "NormalizedEmail");
        migrationBuilder.CreateIndex(name: "UserNameIndex", table: "AspNetUsers", column: "NormalizedUserName", unique: true);
        migrationBuilder.CreateIndex(
            name: "IX_Authorizations_ApplicationId_Status_Subject_Type",
            table: "Authorizations",
            columns: ["ApplicationId", "Status", "Subject", "Type"]);
        migrationBuilder.CreateIndex(name: "IX_Authorizations_CreationDate", table: "Authorizations", column: "CreationDate");
        migrationBuilder.CreateIndex(name: "IX_Authorizations_SessionId", table: "Authorizations", column: "SessionId");
        migrationBuilder.CreateIndex(name: "IX_Authorizations_Subject", table: "Authorizations", column: "Subject");
        migrationBuilder.CreateIndex(name: "IX_RevokedAccessTokens_ExpirationDate", table: "RevokedAccessTokens", column: "ExpirationDate");
        migrationBuilder.CreateIndex(name: "IX_Scopes_Name", table: "Scopes", column: "Name", unique: true, filter: ProviderNeutral.NoFilter);
        migrationBuilder.CreateIndex(
            name: "IX_Tokens_ApplicationId_Status_Subject_Type",
            table: "Tokens",
            columns: ["ApplicationId", "Status", "Subject", "Type"]);
        migrationBuilder.CreateIndex(name: "IX_Tokens_AuthorizationId", table: "Tokens", column: "AuthorizationId");
        migrationBuilder.CreateIndex(name: "IX_Tokens_ExpirationDate", table: "Tokens", column: "ExpirationDate");
        migrationBuilder.CreateIndex(name: "IX_Tokens_ReferenceId", table: "Tokens", column: "ReferenceId", unique: true, filter: ProviderNeutral.NoFilter);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);

        // Dependents first, so that no foreign key points at a dropped table.
        migrationBuilder.DropTable(name: "AspNetRoleClaims");
        migrationBuilder.DropTable(name: "AspNetUserClaims");
        migrationBuilder.DropTable(name: "AspNetUserLogins");
        migrationBuilder.DropTable(name: "AspNetUserRoles");
        migrationBuilder.DropTable(name: "AspNetUserTokens");
        migrationBuilder.DropTable(name: "RevokedAccessTokens");
        migrationBuilder.DropTable(name: "Scopes");
        migrationBuilder.DropTable(name: "Tokens");
        migrationBuilder.DropTable(name: "AspNetRoles");
        migrationBuilder.DropTable(name: "AspNetUsers");
        migrationBuilder.DropTable(name: "Authorizations");
        migrationBuilder.DropTable(name: "Applications");
    }

    /// <summary>An auto-incremented integer key (see <see cref="ProviderNeutral.AutoIncrement"/>).</summary>
    private static OperationBuilder<AddColumnOperation> IdentityColumn(ColumnsBuilder table) =>
        table.Column<int>(nullable: false).AutoIncrement();
}
