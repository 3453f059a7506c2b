using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Protocol;

/// <summary>Browser-based clients (SPAs) reach discovery, JWKS and the token endpoint across origins; strangers do not.</summary>
public sealed class CorsTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Discovery_is_readable_from_any_origin()
    {
        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
        request.Headers.Add("Origin", "https://anything.example");
        var response = await http.SendAsync(request);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Token_endpoint_preflight_allows_a_registered_redirect_origin_only()
    {
        var client = await TestData.CreateClientAsync(server, confidential: false);
        var origin = new Uri(client.RedirectUri).GetLeftPart(UriPartial.Authority);
        using var http = server.CreateClient();

        var allowed = await PreflightAsync(http, origin);
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal(origin, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());

        var stranger = await PreflightAsync(http, "https://evil.example");
        Assert.False(stranger.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private static async Task<HttpResponseMessage> PreflightAsync(HttpClient http, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/connect/token");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        return await http.SendAsync(request);
    }
}
