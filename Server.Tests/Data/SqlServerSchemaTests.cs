using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Tests.Data;

/// <summary>
/// SQL Server, offline: no SQL Server runs here or on CI, so these tests never open a connection (the connection string
/// names a server that does not exist). EF Core builds the model and writes the SQL without one; the scripts are parsed
/// by Microsoft's T-SQL parser and their DDL run against an imaginary database (<see cref="SqlServerSchemaBuilder"/>),
/// which refuses what SQL Server refuses. What they cannot show is a SQL Server executing it: see README "SQL Server".
/// </summary>
public sealed class SqlServerSchemaTests(SqliteServer app) : IClassFixture<SqliteServer>
{
    internal const string NoServer = "Server=sqlserver.invalid;Database=identity;User Id=identity;Password=unused;TrustServerCertificate=True";

    [Fact]
    public void The_model_builds_for_SQL_Server_and_its_create_script_runs()
    {
        using var db = Context();
        var model = db.GetService<IDesignTimeModel>().Model.GetRelationalModel();

        var schema = SqlServerSchemaBuilder.Run(db.Database.GenerateCreateScript());

        Assert.Equal(model.Tables.Select(t => t.Name).Order(StringComparer.Ordinal), schema.Tables.Keys);
        Assert.Equal("nvarchar(100)", schema.Tables["Tokens"].Columns["ReferenceId"].Type);
        Assert.Equal("datetime2", schema.Tables["Tokens"].Columns["ExpirationDate"].Type);
        Assert.Equal("varbinary(max)", schema.Tables["Sessions"].Columns["Ticket"].Type);
        Assert.Equal("nvarchar(450)", schema.Tables["AspNetUsers"].Columns["Id"].Type);
        Assert.Equal("identity(1, 1)", schema.Tables["AspNetUserClaims"].Columns["Id"].Generation);
        // The one cascade SQL Server would refuse as a second path (Applications -> Tokens beside -> Authorizations -> Tokens).
        Assert.Equal("NO ACTION", schema.Tables["Tokens"].ForeignKeys.Single(k => k.PrincipalTable == "Applications").OnDelete);
        Assert.Equal("CASCADE", schema.Tables["Tokens"].ForeignKeys.Single(k => k.PrincipalTable == "Authorizations").OnDelete);
    }

    [Fact]
    public void Every_migration_writes_valid_SQL_Server_scripts_up_and_down()
    {
        using var db = Context();
        var migrator = db.GetService<IMigrator>();
        var migrations = MigrationIds(db);
        Assert.NotEmpty(migrations);

        var previous = Migration.InitialDatabase;
        foreach (var migration in migrations)
        {
            var up = migrator.GenerateScript(previous, migration);
            var down = migrator.GenerateScript(migration, previous);
            Assert.Contains(migration, up, StringComparison.Ordinal);
            TSql.Parse(up);
            TSql.Parse(down);
            previous = migration;
        }

        // Idempotent scripts (what an operator runs by hand against a database at any version) parse too.
        TSql.Parse(migrator.GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent));
    }

    [Fact]
    public void SQL_Server_migrations_build_exactly_the_model_schema()
    {
        using var db = Context();

        var fromMigrations = SqlServerSchemaBuilder.Run(db.GetService<IMigrator>().GenerateScript());
        var fromModel = SqlServerSchemaBuilder.Run(db.Database.GenerateCreateScript());

        var differences = SchemaComparer.Compare(fromMigrations, fromModel);
        Assert.True(differences.Count == 0,
            "The migrations do not build the model's schema on SQL Server:" + Environment.NewLine
            + string.Join(Environment.NewLine, differences.Select(d => "  " + d)));
        Assert.NotEmpty(fromModel.Tables);
    }

    [Fact]
    public void SQL_Server_migrations_roll_back_to_an_empty_database()
    {
        using var db = Context();
        var migrator = db.GetService<IMigrator>();
        var last = MigrationIds(db)[^1];

        var schema = SqlServerSchemaBuilder.Run(migrator.GenerateScript(toMigration: last) + Environment.NewLine + "GO" + Environment.NewLine
            + migrator.GenerateScript(fromMigration: last, toMigration: Migration.InitialDatabase));

        Assert.Empty(schema.Tables);
    }

    /// <summary>The comparison notices a migration that misses a column, an index, a key's cascade or a type.</summary>
    [Fact]
    public void A_migration_script_that_drifted_is_reported_difference_by_difference()
    {
        using var db = Context();
        var script = db.GetService<IMigrator>().GenerateScript();
        var drifted = script
            .Replace("    [Payload] nvarchar(max) NULL,\r\n", "", StringComparison.Ordinal)
            .Replace("    [Payload] nvarchar(max) NULL,\n", "", StringComparison.Ordinal)
            .Replace("[ReferenceId] nvarchar(100) NOT NULL", "[ReferenceId] nvarchar(200) NOT NULL", StringComparison.Ordinal)
            .Replace("CREATE INDEX [IX_Tokens_CreationDate] ON [Tokens] ([CreationDate]);", "", StringComparison.Ordinal);
        Assert.NotEqual(script, drifted);

        var differences = SchemaComparer.Compare(SqlServerSchemaBuilder.Run(drifted), SqlServerSchemaBuilder.Run(db.Database.GenerateCreateScript()));

        Assert.Contains("Tokens.Payload: only in model", differences);
        Assert.Contains("Tokens.ReferenceId: type 'nvarchar(200)' in migrations, 'nvarchar(100)' in model", differences);
        Assert.Contains("Tokens index IX_Tokens_CreationDate: only in model", differences);
    }

    private static List<string> MigrationIds(IdentityDbContext db) =>
        db.GetService<IMigrationsAssembly>().Migrations.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>A SQL Server context on the server's own services (Identity shapes its tables from them), never connected.</summary>
    private IdentityDbContext Context()
    {
        var builder = new DbContextOptionsBuilder<IdentityDbContext>();
        DatabaseRegistration.ProviderConfiguration(new DatabaseOptions { Provider = DatabaseProviders.SqlServer, ConnectionString = NoServer })(builder);
        builder.UseApplicationServiceProvider(app.Services);
        builder.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
        return new IdentityDbContext(builder.Options);
    }
}

/// <summary>The imaginary database refuses what SQL Server refuses, so a script it runs is not merely parsed.</summary>
public sealed class SqlServerSchemaBuilderTests
{
    [Fact]
    public void A_second_cascade_path_between_two_tables_is_refused()
    {
        var refusal = Assert.Throws<SqlServerRefusal>(() => SqlServerSchemaBuilder.Run("""
            CREATE TABLE [A] ([Id] nvarchar(64) NOT NULL, CONSTRAINT [PK_A] PRIMARY KEY ([Id]));
            CREATE TABLE [B] ([Id] nvarchar(64) NOT NULL, [AId] nvarchar(64) NOT NULL, CONSTRAINT [PK_B] PRIMARY KEY ([Id]),
                CONSTRAINT [FK_B_A] FOREIGN KEY ([AId]) REFERENCES [A] ([Id]) ON DELETE CASCADE);
            CREATE TABLE [C] ([Id] nvarchar(64) NOT NULL, [AId] nvarchar(64) NOT NULL, [BId] nvarchar(64) NULL,
                CONSTRAINT [PK_C] PRIMARY KEY ([Id]),
                CONSTRAINT [FK_C_A] FOREIGN KEY ([AId]) REFERENCES [A] ([Id]) ON DELETE CASCADE,
                CONSTRAINT [FK_C_B] FOREIGN KEY ([BId]) REFERENCES [B] ([Id]) ON DELETE CASCADE);
            """));
        Assert.Contains("multiple cascade paths (2 paths from A to C)", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_on_a_max_column_is_refused()
    {
        var refusal = Assert.Throws<SqlServerRefusal>(() => SqlServerSchemaBuilder.Run(
            "CREATE TABLE [A] ([Id] nvarchar(max) NOT NULL, CONSTRAINT [PK_A] PRIMARY KEY ([Id]));"));
        Assert.Contains("invalid for use as a key column", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dropping_a_column_with_its_default_in_place_is_refused_and_allowed_once_the_default_is_dropped()
    {
        const string Table = "CREATE TABLE [A] ([Id] int NOT NULL, [Kind] nvarchar(50) NOT NULL DEFAULT N'admin', CONSTRAINT [PK_A] PRIMARY KEY ([Id]));\n";
        Assert.Throws<SqlServerRefusal>(() => SqlServerSchemaBuilder.Run(Table + "ALTER TABLE [A] DROP COLUMN [Kind];"));

        var schema = SqlServerSchemaBuilder.Run(Table + """
            DECLARE @var nvarchar(max);
            SELECT @var = QUOTENAME([d].[name])
            FROM [sys].[default_constraints] [d]
            INNER JOIN [sys].[columns] [c] ON [d].[parent_column_id] = [c].[column_id] AND [d].[parent_object_id] = [c].[object_id]
            WHERE ([d].[parent_object_id] = OBJECT_ID(N'[A]') AND [c].[name] = N'Kind');
            IF @var IS NOT NULL EXEC(N'ALTER TABLE [A] DROP CONSTRAINT ' + @var + ';');
            ALTER TABLE [A] DROP COLUMN [Kind];
            """);
        Assert.Equal(["Id"], schema.Tables["A"].Columns.Keys);
    }

    [Fact]
    public void Dropping_a_referenced_table_or_an_indexed_column_is_refused()
    {
        const string Tables = """
            CREATE TABLE [A] ([Id] int NOT NULL, [Name] nvarchar(50) NULL, CONSTRAINT [PK_A] PRIMARY KEY ([Id]));
            CREATE TABLE [B] ([Id] int NOT NULL, [AId] int NOT NULL, CONSTRAINT [PK_B] PRIMARY KEY ([Id]),
                CONSTRAINT [FK_B_A] FOREIGN KEY ([AId]) REFERENCES [A] ([Id]));
            CREATE INDEX [IX_A_Name] ON [A] ([Name]);

            """;
        Assert.Throws<SqlServerRefusal>(() => SqlServerSchemaBuilder.Run(Tables + "DROP TABLE [A];"));
        Assert.Throws<SqlServerRefusal>(() => SqlServerSchemaBuilder.Run(Tables + "ALTER TABLE [A] DROP COLUMN [Name];"));
        Assert.Throws<NotSupportedException>(() => SqlServerSchemaBuilder.Run(Tables + "EXEC sp_rename N'[A]', N'C';"));
    }

    [Fact]
    public void Invalid_T_SQL_does_not_parse()
    {
        Assert.Throws<InvalidOperationException>(() => TSql.Parse("""SELECT "Id" FROM "Tokens" LIMIT 1"""));
    }
}
