using IdentityServer.Hosting;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Foundation;

public sealed class CorrelationIdTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Every_response_carries_a_correlation_id()
    {
        using var client = server.CreateClient();

        var first = await SendAsync(client, null);
        var second = await SendAsync(client, null);

        Assert.False(string.IsNullOrWhiteSpace(first));
        Assert.False(string.IsNullOrWhiteSpace(second));
        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData("4bf92f3577b34da6a3ce929d0e0e4736")]
    [InlineData("req-2024.11_22-abc")]
    [InlineData("a")]
    public async Task A_valid_incoming_id_is_echoed(string id)
    {
        using var client = server.CreateClient();

        Assert.Equal(id, await SendAsync(client, id));
    }

    [Fact]
    public async Task An_id_of_exactly_64_characters_is_echoed()
    {
        using var client = server.CreateClient();
        var id = new string('x', 64);

        Assert.Equal(id, await SendAsync(client, id));
    }

    [Theory]
    [InlineData("too-long")]
    [InlineData("has space")]
    [InlineData("<script>")]
    [InlineData("line\\nbreak")]
    [InlineData("semi;colon")]
    [InlineData("caf\u00e9")]
    public async Task An_invalid_incoming_id_is_replaced(string id)
    {
        if (id == "too-long")
        {
            id = new string('x', 65);
        }

        using var client = server.CreateClient();
        var echoed = await SendAsync(client, id);

        Assert.False(string.IsNullOrWhiteSpace(echoed));
        Assert.NotEqual(id, echoed);
        Assert.DoesNotContain(id, echoed, StringComparison.Ordinal);
    }

    private static async Task<string> SendAsync(HttpClient client, string? id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/health/live", UriKind.Relative));
        if (id is not null)
        {
            Assert.True(request.Headers.TryAddWithoutValidation(CorrelationId.HeaderName, id));
        }

        using var response = await client.SendAsync(request);
        Assert.True(response.Headers.TryGetValues(CorrelationId.HeaderName, out var values), "no correlation id header");
        return Assert.Single(values);
    }
}
