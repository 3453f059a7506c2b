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
}
