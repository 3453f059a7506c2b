using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace IdentityServer.Tests.Foundation;

public sealed class HealthTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_endpoints_answer_healthy(string path)
    {
        using var client = server.CreateClient();
        var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readiness_follows_the_database_and_liveness_does_not()
    {
        using var folder = new TempFolder();
        using var server = new DisappearingDatabaseServer(Path.Combine(folder.Path, "identity.db"));
        using var client = server.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);

        // The database goes away under the running server (no pooling, and Mode=ReadWrite never recreates the file).
        foreach (var file in Directory.GetFiles(folder.Path, "identity.db*"))
        {
            File.Delete(file);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
    }

    private sealed class DisappearingDatabaseServer : ServerFactory
    {
        private readonly string _path;

        public DisappearingDatabaseServer(string path)
        {
            _path = path;
            using var create = new SqliteConnection($"Data Source={path};Pooling=False");
            create.Open();
        }

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = $"Data Source={_path};Mode=ReadWrite;Pooling=False",
        };
    }
}
