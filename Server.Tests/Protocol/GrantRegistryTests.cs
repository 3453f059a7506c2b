using System.Net;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Protocol;
using IdentityServer.Protocol.Grants;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// The grant registry is the one list of grant types: a grant added as one class and one registration line is served by
/// the token endpoint, published in discovery's grant_types_supported and accepted by the client rules, with nothing
/// else edited; a grant type nobody registered is none of these.
/// </summary>
public sealed class GrantRegistryTests(ExtraGrantServer server) : IClassFixture<ExtraGrantServer>
{
    [Fact]
    public async Task Discovery_publishes_exactly_the_registered_grant_types()
    {
        using var http = server.CreateClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative)));

        var published = discovery.RootElement.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(["authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange", TestAssertionGrant.Name], published);
        Assert.Equal(published, server.Services.GetRequiredService<IGrantTypeCatalog>().GrantTypes);
    }

    [Fact]
    public async Task A_registered_grant_is_served_to_a_client_permitted_it_and_refused_to_others()
    {
        var permitted = await TestData.CreateClientAsync(server, grantTypes: [TestAssertionGrant.Name], scopes: []);
        var other = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: []);
        using var http = server.CreateClient();
        var form = new Dictionary<string, string> { ["grant_type"] = TestAssertionGrant.Name };

        var (status, body, response) = await OAuthFlow.PostTokenAsync(http, permitted, form);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(permitted.ClientId, body.GetProperty("test_grant_for").GetString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());

        // RFC 6749 §5.2: a grant the server serves but this client may not use.
        (status, body, _) = await OAuthFlow.PostTokenAsync(http, other, form);
        Assert.Equal((HttpStatusCode.BadRequest, "unauthorized_client"), (status, body.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task A_grant_type_nobody_registered_is_unsupported_even_for_a_client_that_lists_it()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["urn:example:unregistered"], scopes: []);
        using var http = server.CreateClient();

        var (status, body, _) = await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "urn:example:unregistered" });

        Assert.Equal((HttpStatusCode.BadRequest, "unsupported_grant_type"), (status, body.GetProperty("error").GetString()));
    }
}

/// <summary>The in-process server with one more grant, registered as a deployment would add one.</summary>
public sealed class ExtraGrantServer : ServerFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(TokenGrantRegistry.AddTokenGrant<TestAssertionGrant>);
    }
}

/// <summary>A grant that only says whom it answered: enough to see the endpoint route to it with an authenticated client.</summary>
public sealed class TestAssertionGrant : ITokenGrant
{
    public const string Name = "urn:example:params:oauth:grant-type:test";

    public static string GrantType => Name;

    public Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken) =>
        Task.FromResult<IResult>(new OAuthJsonResult(StatusCodes.Status200OK, json => json.WriteString("test_grant_for", client.ClientId)));
}
