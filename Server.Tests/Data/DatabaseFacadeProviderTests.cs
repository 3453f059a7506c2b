using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Data;

/// <summary>The hot paths' provider check answers as Npgsql's own does, on both providers.</summary>
public sealed class DatabaseFacadeProviderTests
{
    [Fact]
    public void IsPostgres_agrees_with_npgsqls_check()
    {
        using var postgres = new IdentityDbContext(new DbContextOptionsBuilder<IdentityDbContext>().UseNpgsql("Host=localhost").Options);
        using var sqlite = new IdentityDbContext(new DbContextOptionsBuilder<IdentityDbContext>().UseSqlite("Data Source=:memory:").Options);

        Assert.True(postgres.Database.IsNpgsql());
        Assert.True(postgres.Database.IsPostgres());
        Assert.False(sqlite.Database.IsNpgsql());
        Assert.False(sqlite.Database.IsPostgres());
    }

    [Fact]
    public void IsMsSqlServer_agrees_with_efs_check()
    {
        using var sqlServer = new IdentityDbContext(new DbContextOptionsBuilder<IdentityDbContext>().UseSqlServer("Server=sqlserver.invalid").Options);
        using var sqlite = new IdentityDbContext(new DbContextOptionsBuilder<IdentityDbContext>().UseSqlite("Data Source=:memory:").Options);

        Assert.True(sqlServer.Database.IsSqlServer());
        Assert.True(sqlServer.Database.IsMsSqlServer());
        Assert.False(sqlServer.Database.IsPostgres());
        Assert.False(sqlite.Database.IsMsSqlServer());
    }
}

/// <summary>Database:Provider picks one of three providers; a missing connection string or an unknown name is one clear line.</summary>
public sealed class DatabaseProviderChoiceTests
{
    [Theory]
    [InlineData("SqlServer")]
    [InlineData("sqlserver")]
    public void SQL_Server_is_chosen_by_name_and_needs_a_connection_string(string provider)
    {
        var error = Assert.Throws<IdentityServer.Hosting.StartupConfigurationException>(() =>
            DatabaseRegistration.ProviderConfiguration(new DatabaseOptions { Provider = provider }));
        Assert.Contains("'Database:ConnectionString'", error.Message, StringComparison.Ordinal);
        Assert.Contains("SQL Server needs a connection string", error.Message, StringComparison.Ordinal);

        var builder = new DbContextOptionsBuilder<IdentityDbContext>();
        DatabaseRegistration.ProviderConfiguration(new DatabaseOptions { Provider = provider, ConnectionString = "Server=sqlserver.invalid;Database=identity" })(builder);
        using var db = new IdentityDbContext(builder.Options);
        Assert.True(db.Database.IsMsSqlServer());
        Assert.Equal("sqlserver.invalid", new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(db.Database.GetConnectionString()).DataSource);
    }

    [Fact]
    public void An_unknown_provider_is_answered_with_the_three_known_ones()
    {
        var error = Assert.Throws<IdentityServer.Hosting.StartupConfigurationException>(() =>
            DatabaseRegistration.ProviderConfiguration(new DatabaseOptions { Provider = "Oracle" }));

        Assert.Contains("'Database:Provider'", error.Message, StringComparison.Ordinal);
        Assert.Contains("use 'Sqlite', 'PostgreSQL' or 'SqlServer'", error.Message, StringComparison.Ordinal);
    }
}
