using System.Net;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Protocol;

namespace IdentityServer.Tests.Security;

/// <summary>
/// Behind a proxy that terminates TLS but does not send X-Forwarded-Proto, the server sees plain http while its issuer
/// is https. Its forms (Secure antiforgery cookies) cannot work then: the answer is a 400 page naming the fix, never a 500.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class PlainHttpFormTests(SqliteServer server)
{
    [Theory]
    [InlineData("GET", "/account/login")]
    [InlineData("POST", "/account/login")]
    public async Task A_form_reached_over_plain_http_is_a_clear_400_page(string method, string path)
    {
        using var http = server.CreateClient(new() { BaseAddress = new Uri("http://localhost/"), AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["Username"] = "alice", ["Password"] = "x" });
        }

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("X-Forwarded-Proto", page, StringComparison.Ordinal);
    }
}
