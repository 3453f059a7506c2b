using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Tests.Data;

/// <summary>
/// The hand-written migrations must build exactly the schema the model describes, on every provider: one fresh database
/// is built through the migrations, another from the model (EnsureCreated), and the two catalogs must agree.
/// </summary>
/// <remarks>
/// The contexts use the running server's services as their application service provider, so the model is the one the
/// server really builds (ASP.NET Core Identity, for instance, shapes its tables from the server's IdentityOptions).
/// </remarks>
public sealed class SchemaDriftTests(SqliteServer app) : IClassFixture<SqliteServer>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("idsrv-schema-").FullName;

    [Fact]
    public async Task Sqlite_migrations_build_exactly_the_model_schema()
    {
        var migrated = SqliteConnectionString("migrated");
        var created = SqliteConnectionString("created");
        var expectedTables = await WithContextAsync(DatabaseProviders.Sqlite, migrated, async db =>
        {
            await db.Database.MigrateAsync();
            return ModelTables(db);
        });
        await WithContextAsync(DatabaseProviders.Sqlite, created, db => db.Database.EnsureCreatedAsync());

        var fromMigrations = await SqliteSchemaReader.ReadAsync(migrated);
        var fromModel = await SqliteSchemaReader.ReadAsync(created);

        AssertSameSchema(fromMigrations, fromModel);
        Assert.Equal(expectedTables, fromModel.Tables.Keys);
    }

    [Fact]
    public async Task PostgreSQL_migrations_build_exactly_the_model_schema()
    {
        var migrated = await PostgresCluster.Shared.CreateDatabaseAsync();
        var created = await PostgresCluster.Shared.CreateDatabaseAsync();
        var expectedTables = await WithContextAsync(DatabaseProviders.PostgreSql, migrated, async db =>
        {
            await db.Database.MigrateAsync();
            return ModelTables(db);
        });
        await WithContextAsync(DatabaseProviders.PostgreSql, created, db => db.Database.EnsureCreatedAsync());

        var fromMigrations = await PostgresSchemaReader.ReadAsync(migrated);
        var fromModel = await PostgresSchemaReader.ReadAsync(created);

        AssertSameSchema(fromMigrations, fromModel);
        Assert.Equal(expectedTables, fromModel.Tables.Keys);
        // Spot checks that the catalog was really read, provider types included.
        Assert.Equal("character varying(100)", fromModel.Tables["Tokens"].Columns["ReferenceId"].Type);
        Assert.Equal("identity by default", fromModel.Tables["AspNetUserClaims"].Columns["Id"].Generation);
    }

    [Fact]
    public async Task Sqlite_migrations_roll_back_to_an_empty_database()
    {
        var connectionString = SqliteConnectionString("down");
        await WithContextAsync(DatabaseProviders.Sqlite, connectionString, async db =>
        {
            await db.Database.MigrateAsync();
            Assert.NotEmpty((await SqliteSchemaReader.ReadAsync(connectionString)).Tables);
            await db.GetService<IMigrator>().MigrateAsync(Migration.InitialDatabase);
            return 0;
        });

        Assert.Empty((await SqliteSchemaReader.ReadAsync(connectionString)).Tables);
    }

    [Fact]
    public async Task PostgreSQL_migrations_roll_back_to_an_empty_database()
    {
        var connectionString = await PostgresCluster.Shared.CreateDatabaseAsync();
        await WithContextAsync(DatabaseProviders.PostgreSql, connectionString, async db =>
        {
            await db.Database.MigrateAsync();
            Assert.NotEmpty((await PostgresSchemaReader.ReadAsync(connectionString)).Tables);
            await db.GetService<IMigrator>().MigrateAsync(Migration.InitialDatabase);
            return 0;
        });

        Assert.Empty((await PostgresSchemaReader.ReadAsync(connectionString)).Tables);
    }

    [Fact]
    public async Task Sqlite_audit_rows_written_before_the_table_rename_are_kept_under_the_new_name_and_back()
    {
        var connectionString = SqliteConnectionString("audit-rename");
        await WithContextAsync(DatabaseProviders.Sqlite, connectionString, db => AssertAuditRowsSurviveTheRenameAsync(db));

        var tables = (await SqliteSchemaReader.ReadAsync(connectionString)).Tables;
        Assert.Contains("AdminAuditEntries", tables.Keys); // rolled back by the test
        Assert.DoesNotContain("AuditEntries", tables.Keys);
    }

    [Fact]
    public async Task PostgreSQL_audit_rows_written_before_the_table_rename_are_kept_under_the_new_name_and_back()
    {
        var connectionString = await PostgresCluster.Shared.CreateDatabaseAsync();
        await WithContextAsync(DatabaseProviders.PostgreSql, connectionString, db => AssertAuditRowsSurviveTheRenameAsync(db));

        var tables = (await PostgresSchemaReader.ReadAsync(connectionString)).Tables;
        Assert.Contains("AdminAuditEntries", tables.Keys);
        Assert.DoesNotContain("AuditEntries", tables.Keys);
    }

    /// <summary>
    /// Migrates to just before AuditEntriesTable, writes two rows as the server of then did (one from before the
    /// AuditLog columns, which their defaults fill), migrates to the end and reads them through the model, then rolls
    /// the rename back and finds them in the old table.
    /// </summary>
    private static async Task<int> AssertAuditRowsSurviveTheRenameAsync(IdentityDbContext db)
    {
        const string BeforeRename = "20261123000000_TokenStatusIndex";
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(BeforeRename);
        var when = new DateTime(2026, 11, 20, 8, 30, 0, DateTimeKind.Utc);
        const string Details = """{"name":"api"}""";
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO "AdminAuditEntries" ("Id", "Timestamp", "ActorId", "ActorName", "Action", "Target", "Details")
            VALUES ('old-admin-change', {when}, 'admin-1', 'alice', 'scope.created', 'scope:api', {Details});
            """);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO "AdminAuditEntries" ("Id", "Timestamp", "ActorId", "Action", "Target", "Kind", "Outcome", "IpAddress", "ClientId")
            VALUES ('old-sign-in', {when.AddMinutes(1)}, 'anonymous', 'sign_in.password', 'user:unknown', 'sign_in', 'failure', '198.51.100.7', 'web');
            """);

        await db.Database.MigrateAsync();

        var rows = await db.AuditEntries.AsNoTracking().OrderBy(e => e.Timestamp).ToListAsync();
        Assert.Equal(["old-admin-change", "old-sign-in"], rows.Select(e => e.Id));
        var (change, signIn) = (rows[0], rows[1]);
        Assert.Equal((when, "admin-1", "alice", "scope.created", "scope:api", Details, AuditKinds.Admin, AuditOutcomes.Success),
            (DateTime.SpecifyKind(change.Timestamp, DateTimeKind.Utc), change.ActorId, change.ActorName, change.Action, change.Target, change.Details, change.Kind, change.Outcome));
        Assert.Equal((AuditKinds.SignIn, AuditOutcomes.Failure, "198.51.100.7", "web", "user:unknown"),
            (signIn.Kind, signIn.Outcome, signIn.IpAddress, signIn.ClientId, signIn.Target));

        await migrator.MigrateAsync(BeforeRename);
        var kept = await db.Database.SqlQuery<string>($"""SELECT "Id" AS "Value" FROM "AdminAuditEntries" """).ToListAsync();
        Assert.Equal(["old-admin-change", "old-sign-in"], kept.Order(StringComparer.Ordinal));
        return kept.Count;
    }

    /// <summary>The reader and the comparer together notice a real database that drifted from the model.</summary>
    [Fact]
    public async Task A_drifted_database_is_reported_difference_by_difference()
    {
        var drifted = SqliteConnectionString("drifted");
        var created = SqliteConnectionString("reference");
        await WithContextAsync(DatabaseProviders.Sqlite, created, db => db.Database.EnsureCreatedAsync());
        await WithContextAsync(DatabaseProviders.Sqlite, drifted, async db =>
        {
            await db.Database.MigrateAsync();
            await db.Database.ExecuteSqlRawAsync("""
                DROP INDEX "IX_Tokens_ReferenceId";
                CREATE INDEX "IX_Tokens_ReferenceId" ON "Tokens" ("ReferenceId");
                DROP INDEX "IX_Tokens_ExpirationDate";
                CREATE INDEX "IX_Authorizations_ApplicationId_Status_Subject_Type_2" ON "Authorizations" ("Type", "Subject");
                ALTER TABLE "Scopes" ADD COLUMN "Extra" TEXT NULL;
                DROP TABLE "RevokedAccessTokens";
                CREATE TABLE "RevokedAccessTokens" (
                    "Jti" TEXT NOT NULL CONSTRAINT "PK_RevokedAccessTokens" PRIMARY KEY,
                    "ExpirationDate" TEXT NULL DEFAULT '2000-01-01');
                CREATE INDEX "IX_RevokedAccessTokens_ExpirationDate" ON "RevokedAccessTokens" ("ExpirationDate" DESC);
                CREATE TABLE "Leftover" ("Id" INTEGER NOT NULL);
                """);
            return 0;
        });

        var differences = SchemaComparer.Compare(await SqliteSchemaReader.ReadAsync(drifted), await SqliteSchemaReader.ReadAsync(created));

        AssertSameLines(
            [
                "table Leftover: only in migrations",
                "Authorizations index IX_Authorizations_ApplicationId_Status_Subject_Type_2: only in migrations",
                "RevokedAccessTokens.ExpirationDate: nullable in migrations, not null in model",
                "RevokedAccessTokens.ExpirationDate: default ''2000-01-01'' in migrations, none in model",
                "RevokedAccessTokens index IX_RevokedAccessTokens_ExpirationDate: columns '(ExpirationDate DESC)' in migrations, '(ExpirationDate)' in model",
                "Scopes.Extra: only in migrations",
                "Tokens index IX_Tokens_ExpirationDate: only in model",
                "Tokens index IX_Tokens_ReferenceId: not unique in migrations, unique in model",
            ],
            differences);
    }

    [Fact]
    public void The_comparer_names_each_column_difference()
    {
        var model = SampleSchema();
        var migrations = SampleSchema();
        var tokens = migrations.Tables["Tokens"];
        tokens.Columns["ReferenceId"] = tokens.Columns["ReferenceId"] with { Nullable = true };
        tokens.Columns["Payload"] = tokens.Columns["Payload"] with { Type = "character varying(100)" };
        tokens.Columns["Status"] = tokens.Columns["Status"] with { Default = "'valid'::text" };
        tokens.Columns["Id"] = tokens.Columns["Id"] with { Generation = "identity by default" };
        tokens.Columns.Remove("Subject");
        tokens.Columns["Extra"] = new ColumnSchema("Extra", "text", true, null, null);

        AssertSameLines(
            [
                "Tokens.Extra: only in migrations",
                "Tokens.Id: generated 'identity by default' in migrations, none in model",
                "Tokens.Payload: type 'character varying(100)' in migrations, 'text' in model",
                "Tokens.ReferenceId: nullable in migrations, not null in model",
                "Tokens.Status: default ''valid'::text' in migrations, none in model",
                "Tokens.Subject: only in model",
            ],
            SchemaComparer.Compare(migrations, model));
    }

    [Fact]
    public void The_comparer_names_each_key_index_and_table_difference()
    {
        var model = SampleSchema();
        var migrations = SampleSchema();
        var tokens = migrations.Tables["Tokens"];
        tokens.PrimaryKey = new KeySchema("PK_Tokens", ["Id", "Subject"]);
        tokens.Indexes["IX_Tokens_ReferenceId"] = tokens.Indexes["IX_Tokens_ReferenceId"] with { Unique = false };
        tokens.Indexes["IX_Tokens_ApplicationId_Status"] = tokens.Indexes["IX_Tokens_ApplicationId_Status"] with { Columns = ["Status", "ApplicationId"] };
        tokens.Indexes["IX_Tokens_Status"] = new IndexSchema("IX_Tokens_Status", ["Status"], false, "\"Status\" = 'valid'", "index");
        tokens.ForeignKeys[0] = tokens.ForeignKeys[0] with { OnDelete = "NO ACTION" };
        tokens.ForeignKeys.Add(new ForeignKeySchema("FK_Tokens_Scopes_Subject", ["Subject"], "Scopes", ["Id"], "CASCADE", "NO ACTION"));
        migrations.Tables.Remove("Scopes");
        model.Tables["Applications"].ForeignKeys.Clear();
        migrations.Tables["Applications"].Checks["CK_Applications_Kind"] = "CHECK (true)";

        AssertSameLines(
            [
                "Applications check CK_Applications_Kind: only in migrations",
                "table Scopes: only in model",
                "Tokens: primary key 'PK_Tokens (Id, Subject)' in migrations, 'PK_Tokens (Id)' in model",
                "Tokens index IX_Tokens_ApplicationId_Status: columns '(Status, ApplicationId)' in migrations, '(ApplicationId, Status)' in model",
                "Tokens index IX_Tokens_ReferenceId: not unique in migrations, unique in model",
                "Tokens index IX_Tokens_Status: only in migrations",
                "Tokens foreign key (ApplicationId) -> Applications(Id): on delete 'NO ACTION' in migrations, 'CASCADE' in model",
                "Tokens foreign key (Subject) -> Scopes(Id): only in migrations",
            ],
            SchemaComparer.Compare(migrations, model));
    }

    [Fact]
    public void The_comparer_finds_no_difference_between_equal_schemas()
    {
        Assert.Empty(SchemaComparer.Compare(SampleSchema(), SampleSchema()));
    }

    private static DatabaseSchema SampleSchema()
    {
        var schema = new DatabaseSchema();
        var applications = schema.Table("Applications");
        applications.Columns["Id"] = new ColumnSchema("Id", "character varying(64)", false, null, null);
        applications.PrimaryKey = new KeySchema("PK_Applications", ["Id"]);

        var scopes = schema.Table("Scopes");
        scopes.Columns["Id"] = new ColumnSchema("Id", "character varying(64)", false, null, null);
        scopes.PrimaryKey = new KeySchema("PK_Scopes", ["Id"]);

        var tokens = schema.Table("Tokens");
        foreach (var (name, type, nullable) in new[]
        {
            ("Id", "character varying(64)", false),
            ("ApplicationId", "character varying(64)", false),
            ("Subject", "character varying(400)", false),
            ("Status", "character varying(50)", false),
            ("ReferenceId", "character varying(100)", false),
            ("Payload", "text", true),
        })
        {
            tokens.Columns[name] = new ColumnSchema(name, type, nullable, null, null);
        }

        tokens.PrimaryKey = new KeySchema("PK_Tokens", ["Id"]);
        tokens.Indexes["IX_Tokens_ReferenceId"] = new IndexSchema("IX_Tokens_ReferenceId", ["ReferenceId"], true, null, "index");
        tokens.Indexes["IX_Tokens_ApplicationId_Status"] = new IndexSchema("IX_Tokens_ApplicationId_Status", ["ApplicationId", "Status"], false, null, "index");
        tokens.ForeignKeys.Add(new ForeignKeySchema("FK_Tokens_Applications_ApplicationId", ["ApplicationId"], "Applications", ["Id"], "CASCADE", "NO ACTION"));
        return schema;
    }

    private static void AssertSameLines(IEnumerable<string> expected, IEnumerable<string> actual) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));

    private static void AssertSameSchema(DatabaseSchema fromMigrations, DatabaseSchema fromModel)
    {
        var differences = SchemaComparer.Compare(fromMigrations, fromModel);
        Assert.True(differences.Count == 0,
            "The migrations do not build the model's schema (write a migration for the model change):"
            + Environment.NewLine + string.Join(Environment.NewLine, differences.Select(d => "  " + d)));
    }

    private static List<string> ModelTables(IdentityDbContext db) =>
        db.GetService<IDesignTimeModel>().Model.GetRelationalModel().Tables.Select(t => t.Name).Order(StringComparer.Ordinal).ToList();

    private string SqliteConnectionString(string name) =>
        $"Data Source={Path.Combine(_folder, name + ".db")};Pooling=False";

    private async Task<T> WithContextAsync<T>(string provider, string connectionString, Func<IdentityDbContext, Task<T>> work)
    {
        var builder = new DbContextOptionsBuilder<IdentityDbContext>();
        DatabaseRegistration.ProviderConfiguration(new DatabaseOptions { Provider = provider, ConnectionString = connectionString })(builder);
        builder.UseApplicationServiceProvider(app.Services);
        builder.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
        await using var db = new IdentityDbContext(builder.Options);
        return await work(db);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
