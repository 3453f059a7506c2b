using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Foundation;

/// <summary>Two configured keys on a running server: the first signs, both are published, so tokens in flight survive a rotation.</summary>
public sealed class KeyRotationTests(TwoKeyServer server) : IClassFixture<TwoKeyServer>
{
    [Fact]
    public async Task Both_configured_keys_are_published_and_only_the_first_signs()
    {
        var ring = server.Services.GetRequiredService<SigningKeyRing>();
        var configuration = await DiscoveryClient.FetchAsync(server);

        Assert.Equal([server.RsaKeyId, server.EcKeyId], configuration.SigningKeys.Select(k => k.KeyId));
        Assert.Equal(server.RsaKeyId, ring.Active.KeyId);
        Assert.Equal(server.RsaKeyId, TestTokens.KeyIdOf(TestTokens.Sign(ring.Active.Credentials, ServerFactory.Issuer)));
        Assert.Contains(SecurityAlgorithms.RsaSha256, configuration.IdTokenSigningAlgValuesSupported);
        Assert.Contains(SecurityAlgorithms.EcdsaSha256, configuration.IdTokenSigningAlgValuesSupported);
    }

    [Fact]
    public async Task Tokens_from_either_key_validate_through_discovery()
    {
        var ring = server.Services.GetRequiredService<SigningKeyRing>();
        var configuration = await DiscoveryClient.FetchAsync(server);

        foreach (var key in ring.Keys)
        {
            var token = TestTokens.Sign(key.Credentials, ServerFactory.Issuer);
            var result = await TestTokens.ValidateAsync(token, configuration.Issuer, configuration.SigningKeys);
            Assert.True(result.IsValid, $"{key.KeyId}: {result.Exception?.Message}");
        }
    }

    [Fact]
    public async Task The_EC_key_is_published_without_its_private_part()
    {
        using var client = server.CreateClient();
        using var jwks = JsonDocument.Parse(await client.GetStringAsync(new Uri(ServerFactory.Issuer + "/.well-known/jwks")));
        var ec = jwks.RootElement.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("kty").GetString() == "EC");

        Assert.Equal(server.EcKeyId, ec.GetProperty("kid").GetString());
        Assert.Equal("P-256", ec.GetProperty("crv").GetString());
        Assert.Equal("ES256", ec.GetProperty("alg").GetString());
        JwksAssert.HasNoPrivateMembers(ec);
    }
}
