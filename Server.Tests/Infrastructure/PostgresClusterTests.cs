namespace IdentityServer.Tests.Infrastructure;

/// <summary>The parts of the throwaway cluster's logic that decide whether PostgreSQL tests run, skip or fail.</summary>
public sealed class PostgresClusterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "idsrv-pgbin-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void The_highest_installed_version_is_chosen_numerically()
    {
        foreach (var version in new[] { "9.6", "13", "15", "16" })
        {
            FakeInstall(version);
        }

        Directory.CreateDirectory(Path.Combine(_root, "17", "bin")); // incomplete: no initdb, no pg_ctl
        Directory.CreateDirectory(Path.Combine(_root, "extension"));

        Assert.Equal(Path.Combine(_root, "16", "bin"), PostgresCluster.FindBinDirectory(_root));
    }

    [Fact]
    public void No_installation_means_no_binaries()
    {
        Assert.Null(PostgresCluster.FindBinDirectory(_root));
        Directory.CreateDirectory(_root);
        Assert.Null(PostgresCluster.FindBinDirectory(_root));
    }

    [Fact]
    public async Task The_shared_cluster_hands_out_distinct_empty_databases()
    {
        var first = await PostgresCluster.Shared.CreateDatabaseAsync();
        var second = await PostgresCluster.Shared.CreateDatabaseAsync();
        Assert.NotEqual(first, second);

        await using var connection = new Npgsql.NpgsqlConnection(first);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
        Assert.Equal(0L, await command.ExecuteScalarAsync());
        Assert.Equal("127.0.0.1", connection.Host);
    }

    private void FakeInstall(string version)
    {
        var bin = Directory.CreateDirectory(Path.Combine(_root, version, "bin")).FullName;
        File.WriteAllText(Path.Combine(bin, "initdb"), "");
        File.WriteAllText(Path.Combine(bin, "pg_ctl"), "");
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
