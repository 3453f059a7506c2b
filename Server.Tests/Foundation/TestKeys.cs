using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using IdentityServer.Tokens;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// Key material for the signing tests, written the way an operator would (PKCS#8 PEM, encrypted PEM, PFX), and an
/// RFC 7638 thumbprint computed here from first principles, so the server's kid is checked against the specification
/// rather than against the library the server itself uses.
/// </summary>
internal static class TestKeys
{
    public static string WriteRsaPem(string folder, string name, RSA rsa) =>
        Write(folder, name, rsa.ExportPkcs8PrivateKeyPem());

    public static string WriteEcPem(string folder, string name, ECDsa ec) =>
        Write(folder, name, ec.ExportPkcs8PrivateKeyPem());

    public static string WriteEncryptedPem(string folder, string name, AsymmetricAlgorithm key, string password) =>
        Write(folder, name, key.ExportEncryptedPkcs8PrivateKeyPem(password,
            new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));

    public static string WritePfx(string folder, string name, AsymmetricAlgorithm key, string password)
    {
        var subject = new X500DistinguishedName("CN=signing.test.example");
        var request = key switch
        {
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
            _ => throw new ArgumentException("RSA or EC only.", nameof(key)),
        };
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return path;
    }

    private static string Write(string folder, string name, string text)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>RFC 7638 §3.2: the required members in lexicographic order, no whitespace, SHA-256, base64url.</summary>
    public static string Thumbprint(RSA rsa)
    {
        var p = rsa.ExportParameters(includePrivateParameters: false);
        return Hash($"{{\"e\":\"{Base64UrlEncoder.Encode(p.Exponent)}\",\"kty\":\"RSA\",\"n\":\"{Base64UrlEncoder.Encode(p.Modulus)}\"}}");
    }

    public static string Thumbprint(ECDsa ec)
    {
        var p = ec.ExportParameters(includePrivateParameters: false);
        var crv = ec.KeySize switch { 256 => "P-256", 384 => "P-384", 521 => "P-521", _ => throw new ArgumentException("curve", nameof(ec)) };
        return Hash($"{{\"crv\":\"{crv}\",\"kty\":\"EC\",\"x\":\"{Base64UrlEncoder.Encode(p.Q.X)}\",\"y\":\"{Base64UrlEncoder.Encode(p.Q.Y)}\"}}");
    }

    /// <summary>The thumbprint of a published JWK, from its own members.</summary>
    public static string Thumbprint(JsonElement jwk)
    {
        string Member(string name) => jwk.GetProperty(name).GetString()!;
        return Member("kty") switch
        {
            "RSA" => Hash($"{{\"e\":\"{Member("e")}\",\"kty\":\"RSA\",\"n\":\"{Member("n")}\"}}"),
            "EC" => Hash($"{{\"crv\":\"{Member("crv")}\",\"kty\":\"EC\",\"x\":\"{Member("x")}\",\"y\":\"{Member("y")}\"}}"),
            var other => throw new ArgumentException($"unexpected kty {other}", nameof(jwk)),
        };
    }

    private static string Hash(string canonicalJson) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJson)));

    public static SigningKeyRing Load(string environment, params SigningKeyFile[] files) =>
        SigningKeyRing.Load(new SigningOptions { Keys = [.. files] }, new Environment(environment));

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "IdentityServer";
        public string ContentRootPath { get; set; } = Directory.GetCurrentDirectory();
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

/// <summary>A folder under the system temp directory, removed with everything in it.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "idsrv-foundation-")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
