using System.Net;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests;

public sealed class SmokeTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Discovery_names_the_configured_issuer()
    {
        using var client = server.CreateClient();
        var response = await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(ServerFactory.Issuer, json.RootElement.GetProperty("issuer").GetString());
    }

    [Theory]
    [InlineData("/site.css", "text/css")]
    [InlineData("/favicon.ico", "image/x-icon")] // browsers ask for it on every page; without it each view logs a 404
    public async Task The_pages_static_files_are_served(string path, string mediaType)
    {
        using var client = server.CreateClient();
        var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync());
    }
}
