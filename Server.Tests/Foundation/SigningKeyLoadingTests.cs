using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Hosting;
using IdentityServer.Protocol;
using IdentityServer.Protocol.Grants;
using IdentityServer.Tokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Foundation;

/// <summary>Loading configured key files: PEM (plain and encrypted), PFX, several keys, stable kids and clear errors.</summary>
public sealed class SigningKeyLoadingTests : IDisposable
{
    private const string Issuer = "https://id.test.example";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_first_configured_key_signs_and_the_second_is_only_published()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rsaPath = TestKeys.WriteRsaPem(_folder.Path, "rsa.pem", rsa);
        var ecPath = TestKeys.WriteEcPem(_folder.Path, "ec.pem", ec);

        var ring = TestKeys.Load("Production", new SigningKeyFile { Path = rsaPath }, new SigningKeyFile { Path = ecPath });

        Assert.Equal([TestKeys.Thumbprint(rsa), TestKeys.Thumbprint(ec)], ring.Keys.Select(k => k.KeyId));
        Assert.Equal([SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256], ring.Keys.Select(k => k.Algorithm));
        Assert.Same(ring.Keys[0], ring.Active);

        var jwks = new JsonWebKeySet(JwksJson(ring));
        Assert.Equal([TestKeys.Thumbprint(rsa), TestKeys.Thumbprint(ec)], jwks.Keys.Select(k => k.Kid));

        var token = TestTokens.Sign(ring.Active.Credentials, Issuer);
        Assert.Equal(TestKeys.Thumbprint(rsa), TestTokens.KeyIdOf(token));
        Assert.True((await TestTokens.ValidateAsync(token, Issuer, jwks.GetSigningKeys())).IsValid);

        // A token the second key signed earlier (before a rotation) still validates through the published set.
        var older = TestTokens.Sign(ring.Keys[1].Credentials, Issuer);
        var result = await TestTokens.ValidateAsync(older, Issuer, jwks.GetSigningKeys());
        Assert.True(result.IsValid, result.Exception?.Message);
    }

    [Fact]
    public void Swapping_the_order_makes_the_other_key_sign()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rsaPath = TestKeys.WriteRsaPem(_folder.Path, "rsa.pem", rsa);
        var ecPath = TestKeys.WriteEcPem(_folder.Path, "ec.pem", ec);

        var ring = TestKeys.Load("Production", new SigningKeyFile { Path = ecPath }, new SigningKeyFile { Path = rsaPath });

        Assert.Equal(TestKeys.Thumbprint(ec), ring.Active.KeyId);
        Assert.Equal(TestKeys.Thumbprint(ec), TestTokens.KeyIdOf(TestTokens.Sign(ring.Active.Credentials, Issuer)));
    }

    [Fact]
    public void The_kid_is_the_RFC_7638_thumbprint_and_is_the_same_on_every_load_of_a_file()
    {
        using var rsa = RSA.Create(3072);
        using var other = RSA.Create(2048);
        var path = TestKeys.WriteRsaPem(_folder.Path, "rsa.pem", rsa);
        var otherPath = TestKeys.WriteRsaPem(_folder.Path, "other.pem", other);

        var first = TestKeys.Load("Production", new SigningKeyFile { Path = path });
        var second = TestKeys.Load("Production", new SigningKeyFile { Path = path });
        var different = TestKeys.Load("Production", new SigningKeyFile { Path = otherPath });

        Assert.Equal(TestKeys.Thumbprint(rsa), first.Active.KeyId);
        Assert.Equal(first.Active.KeyId, second.Active.KeyId);
        Assert.Equal(first.Active.KeyId, first.Active.Key.KeyId);
        Assert.NotEqual(first.Active.KeyId, different.Active.KeyId);
    }

    [Theory]
    [InlineData("RSA")]
    [InlineData("EC")]
    public async Task An_encrypted_PEM_loads_with_its_password(string type)
    {
        using AsymmetricAlgorithm key = type == "RSA" ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var path = TestKeys.WriteEncryptedPem(_folder.Path, "encrypted.pem", key, "correct horse");

        var ring = TestKeys.Load("Production", new SigningKeyFile { Path = path, Password = "correct horse" });

        Assert.Equal(key is RSA rsa ? TestKeys.Thumbprint(rsa) : TestKeys.Thumbprint((ECDsa)key), ring.Active.KeyId);
        await AssertSignsVerifiablyAsync(ring);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong password")]
    public void An_encrypted_PEM_without_its_password_stops_startup_naming_the_setting(string? password)
    {
        using var first = RSA.Create(2048);
        using var second = RSA.Create(2048);
        var plain = TestKeys.WriteRsaPem(_folder.Path, "plain.pem", first);
        var encrypted = TestKeys.WriteEncryptedPem(_folder.Path, "encrypted.pem", second, "correct horse");

        var error = Assert.Throws<StartupConfigurationException>(() =>
            TestKeys.Load("Production", new SigningKeyFile { Path = plain }, new SigningKeyFile { Path = encrypted, Password = password }));

        Assert.Equal("Signing:Keys:1:Path", error.Setting);
        Assert.Contains("'Signing:Keys:1:Path'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RSA")]
    [InlineData("EC")]
    public async Task A_PFX_loads_with_its_password(string type)
    {
        using AsymmetricAlgorithm key = type == "RSA" ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var path = TestKeys.WritePfx(_folder.Path, "signing.pfx", key, "pfx password");

        var ring = TestKeys.Load("Production", new SigningKeyFile { Path = path, Password = "pfx password" });

        Assert.Equal(key is RSA rsa ? TestKeys.Thumbprint(rsa) : TestKeys.Thumbprint((ECDsa)key), ring.Active.KeyId);
        Assert.Equal(type == "RSA" ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.EcdsaSha256, ring.Active.Algorithm);
        await AssertSignsVerifiablyAsync(ring);
    }

    [Fact]
    public void A_PFX_with_the_wrong_password_stops_startup_naming_the_setting()
    {
        using var rsa = RSA.Create(2048);
        var path = TestKeys.WritePfx(_folder.Path, "signing.pfx", rsa, "pfx password");

        var error = Assert.Throws<StartupConfigurationException>(() =>
            TestKeys.Load("Production", new SigningKeyFile { Path = path, Password = "not it" }));

        Assert.Equal("Signing:Keys:0:Path", error.Setting);
    }

    [Fact]
    public void A_missing_key_file_stops_startup_naming_the_setting_and_the_file()
    {
        var path = Path.Combine(_folder.Path, "absent.pem");

        var error = Assert.Throws<StartupConfigurationException>(() => TestKeys.Load("Development", new SigningKeyFile { Path = path }));

        Assert.Equal("Signing:Keys:0:Path", error.Setting);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_RSA_key_below_2048_bits_is_refused()
    {
        using var weak = RSA.Create(1024);
        var path = TestKeys.WriteRsaPem(_folder.Path, "weak.pem", weak);

        var error = Assert.Throws<StartupConfigurationException>(() => TestKeys.Load("Production", new SigningKeyFile { Path = path }));

        Assert.Equal("Signing:Keys:0:Path", error.Setting);
        Assert.Contains("2048", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Production_without_a_key_stops_startup()
    {
        var error = Assert.Throws<StartupConfigurationException>(() => TestKeys.Load("Production"));

        Assert.Equal("Signing:Keys", error.Setting);
    }

    [Fact]
    public void The_JWKS_of_a_mixed_ring_has_only_public_members_and_thumbprint_kids()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ring = TestKeys.Load("Production",
            new SigningKeyFile { Path = TestKeys.WriteRsaPem(_folder.Path, "rsa.pem", rsa) },
            new SigningKeyFile { Path = TestKeys.WriteEcPem(_folder.Path, "ec.pem", ec) });

        using var jwks = JsonDocument.Parse(JwksJson(ring));
        var keys = jwks.RootElement.GetProperty("keys").EnumerateArray().ToList();

        Assert.Equal(2, keys.Count);
        foreach (var jwk in keys)
        {
            JwksAssert.HasNoPrivateMembers(jwk);
            Assert.Equal(TestKeys.Thumbprint(jwk), jwk.GetProperty("kid").GetString());
        }
    }

    private static string JwksJson(SigningKeyRing ring) =>
        System.Text.Encoding.UTF8.GetString(new DiscoveryDocument(new ServerOptions { Issuer = Issuer }, ring, new TokenGrantRegistry([])).Jwks);

    /// <summary>The ring's active key signs a token that its own published JWKS (and nothing else) validates.</summary>
    private static async Task AssertSignsVerifiablyAsync(SigningKeyRing ring)
    {
        var jwks = new JsonWebKeySet(JwksJson(ring));
        var token = TestTokens.Sign(ring.Active.Credentials, Issuer);
        var result = await TestTokens.ValidateAsync(token, Issuer, jwks.GetSigningKeys());
        Assert.True(result.IsValid, result.Exception?.Message);
    }
}

internal static class JwksAssert
{
    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

    public static void HasNoPrivateMembers(JsonElement jwk)
    {
        foreach (var member in PrivateMembers)
        {
            Assert.False(jwk.TryGetProperty(member, out _), $"JWK {jwk.GetProperty("kid").GetString()} publishes the private member '{member}'.");
        }
    }
}
