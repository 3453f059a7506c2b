using IdentityServer.Data;
using Npgsql;

namespace IdentityServer.Tests.Data;

/// <summary>The Npgsql settings the server adds to a PostgreSQL connection string, and that a named setting wins.</summary>
public sealed class PostgresConnectionDefaultsTests
{
    private const string Plain = "Host=db;Database=identity;Username=identity;Password=secret";

    [Fact]
    public void A_connection_string_that_names_nothing_gets_the_servers_settings()
    {
        var settings = new NpgsqlConnectionStringBuilder(DatabaseRegistration.WithPostgresDefaults(Plain, processorCount: 2));

        Assert.True(settings.NoResetOnClose);
        Assert.Equal(64, settings.MaxAutoPrepare);
        Assert.Equal(32, settings.MaxPoolSize);
        Assert.Equal("db", settings.Host);
        Assert.Equal("secret", settings.Password);
    }

    [Theory]
    [InlineData("Maximum Pool Size=7")]
    [InlineData("maxpoolsize=7")]
    public void A_pool_size_the_connection_string_names_is_kept(string setting)
    {
        var settings = new NpgsqlConnectionStringBuilder(DatabaseRegistration.WithPostgresDefaults(Plain + ";" + setting, processorCount: 8));

        Assert.Equal(7, settings.MaxPoolSize);
    }

    [Fact]
    public void Other_named_settings_are_kept_too()
    {
        var settings = new NpgsqlConnectionStringBuilder(
            DatabaseRegistration.WithPostgresDefaults(Plain + ";No Reset On Close=false;Max Auto Prepare=0", processorCount: 1));

        Assert.False(settings.NoResetOnClose);
        Assert.Equal(0, settings.MaxAutoPrepare);
    }

    [Theory]
    [InlineData(1, 16)]
    [InlineData(4, 64)]
    [InlineData(64, 100)]
    public void The_pool_grows_with_the_cpus_up_to_npgsqls_own_default(int processors, int poolSize) =>
        Assert.Equal(poolSize, DatabaseRegistration.DefaultMaxPoolSize(processors));
}
