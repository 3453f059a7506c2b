using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Data;

/// <summary>
/// With a certificate configured, the Data Protection keys (which open every session cookie) are stored in the
/// database encrypted with it: a copy of the database alone yields no key. The server works as before.
/// </summary>
public sealed class DataProtectionAtRestTests(CertificateProtectedServer server) : IClassFixture<CertificateProtectedServer>
{
    [Fact]
    public async Task Keys_made_while_the_server_signs_people_in_are_stored_encrypted()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();

        // A sign-in protects a cookie and an antiforgery token: the key ring is made and used.
        var code = (await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge))["code"];
        Assert.Equal(HttpStatusCode.OK, (await OAuthFlow.RedeemCodeAsync(browser.Http, client, code, verifier)).Status);

        var keys = await server.WithDatabaseAsync(db => db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToListAsync());
        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains("<encryptedSecret", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal);
            // XML encryption to the configured certificate (its public part travels with the ciphertext, as XML-Enc puts it).
            Assert.Contains("EncryptedXmlDecryptor", xml, StringComparison.Ordinal);
            Assert.Contains(server.CertificateBase64[..64], xml, StringComparison.Ordinal);
        });
    }
}

/// <summary>The in-process server with a Data Protection certificate of its own (a PFX made for the test).</summary>
public sealed class CertificateProtectedServer : ServerFactory
{
    private readonly string _pfx;

    public CertificateProtectedServer()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=data-protection.test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        CertificateBase64 = Convert.ToBase64String(certificate.RawData);
        Directory.CreateDirectory(DataDirectory);
        _pfx = Path.Combine(DataDirectory, "data-protection.pfx");
        File.WriteAllBytes(_pfx, certificate.Export(X509ContentType.Pfx, "test-password"));
    }

    public string CertificateBase64 { get; }

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["DataProtection:Certificates:0:Path"] = _pfx,
        ["DataProtection:Certificates:0:Password"] = "test-password",
    };
}
