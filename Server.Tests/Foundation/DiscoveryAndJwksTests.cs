using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// Discovery and JWKS as a resource server sees them: read by Microsoft.IdentityModel's ConfigurationManager, a client of
/// our metadata we did not write, and used to validate a token the server's active key signed.
/// </summary>
public sealed class DiscoveryAndJwksTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task A_token_signed_with_the_active_key_validates_through_discovery_and_JWKS_alone()
    {
        var configuration = await DiscoveryClient.FetchAsync(server);
        var ring = server.Services.GetRequiredService<SigningKeyRing>();

        var token = TestTokens.Sign(ring.Active.Credentials, ServerFactory.Issuer);
        var result = await TestTokens.ValidateAsync(token, configuration.Issuer, configuration.SigningKeys);

        Assert.True(result.IsValid, result.Exception?.ToString());
        Assert.Equal(ServerFactory.Issuer, result.Issuer);
        Assert.Equal(ring.Active.KeyId, ((SecurityKey)result.SecurityToken.SigningKey).KeyId);
        Assert.Equal(ServerFactory.Issuer + "/.well-known/jwks", configuration.JwksUri);
    }

    [Fact]
    public async Task A_token_signed_with_an_unpublished_key_does_not_validate_through_discovery()
    {
        var configuration = await DiscoveryClient.FetchAsync(server);
        using var stranger = RSA.Create(2048);
        var strangerKey = new RsaSecurityKey(stranger) { KeyId = TestKeys.Thumbprint(stranger) };

        var token = TestTokens.Sign(new SigningCredentials(strangerKey, SecurityAlgorithms.RsaSha256), ServerFactory.Issuer);
        var result = await TestTokens.ValidateAsync(token, configuration.Issuer, configuration.SigningKeys);

        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenSignatureKeyNotFoundException>(result.Exception, exactMatch: false);
    }

    [Fact]
    public async Task A_token_with_another_issuer_does_not_validate_through_discovery()
    {
        var configuration = await DiscoveryClient.FetchAsync(server);
        var ring = server.Services.GetRequiredService<SigningKeyRing>();

        var token = TestTokens.Sign(ring.Active.Credentials, "https://evil.test.example");
        var result = await TestTokens.ValidateAsync(token, configuration.Issuer, configuration.SigningKeys);

        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenInvalidIssuerException>(result.Exception);
    }

    [Fact]
    public async Task The_discovery_issuer_is_exactly_the_configured_issuer()
    {
        using var client = server.CreateClient();
        var response = await client.GetAsync(new Uri(ServerFactory.Issuer + "/.well-known/openid-configuration"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(ServerFactory.Issuer, json.RootElement.GetProperty("issuer").GetString());
        Assert.Equal(ServerFactory.Issuer, (await DiscoveryClient.FetchAsync(server)).Issuer);
    }

    [Fact]
    public async Task The_JWKS_publishes_public_members_only_with_thumbprint_kids()
    {
        var ring = server.Services.GetRequiredService<SigningKeyRing>();
        using var client = server.CreateClient();
        using var jwks = JsonDocument.Parse(await client.GetStringAsync(new Uri(ServerFactory.Issuer + "/.well-known/jwks")));
        var keys = jwks.RootElement.GetProperty("keys").EnumerateArray().ToList();

        Assert.Equal(ring.Keys.Select(k => k.KeyId), keys.Select(k => k.GetProperty("kid").GetString()));
        foreach (var jwk in keys)
        {
            JwksAssert.HasNoPrivateMembers(jwk);
            Assert.Equal("sig", jwk.GetProperty("use").GetString());
            Assert.Equal(TestKeys.Thumbprint(jwk), jwk.GetProperty("kid").GetString());
        }
    }

    [Theory]
    [InlineData("/.well-known/openid-configuration")]
    [InlineData("/.well-known/jwks")]
    public async Task Discovery_and_JWKS_responses_are_cacheable(string path)
    {
        using var client = server.CreateClient();
        var response = await client.GetAsync(new Uri(ServerFactory.Issuer + path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cacheControl = response.Headers.CacheControl;
        Assert.NotNull(cacheControl);
        Assert.True(cacheControl.Public);
        Assert.NotNull(cacheControl.MaxAge);
        Assert.True(cacheControl.MaxAge > TimeSpan.Zero);
        Assert.False(cacheControl.NoStore);
    }

    [Fact]
    public async Task Responses_are_built_once_not_per_request()
    {
        using var client = server.CreateClient();
        var first = await client.GetByteArrayAsync(new Uri(ServerFactory.Issuer + "/.well-known/jwks"));
        var second = await client.GetByteArrayAsync(new Uri(ServerFactory.Issuer + "/.well-known/jwks"));
        var document = server.Services.GetRequiredService<IdentityServer.Protocol.DiscoveryDocument>();

        Assert.Equal(first, second);
        Assert.Same(document.Jwks, document.Jwks);
        Assert.Same(document.Configuration, document.Configuration);
    }
}
