using System.Security.Cryptography;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Foundation;

/// <summary>The in-process server configured with two key files: an RSA key that signs and an EC P-256 key that is only published.</summary>
public sealed class TwoKeyServer : ServerFactory
{
    private readonly TempFolder _folder = new("idsrv-two-keys-");

    public TwoKeyServer()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        RsaPath = TestKeys.WriteRsaPem(_folder.Path, "first-rsa.pem", rsa);
        EcPath = TestKeys.WriteEcPem(_folder.Path, "second-ec.pem", ec);
        RsaKeyId = TestKeys.Thumbprint(rsa);
        EcKeyId = TestKeys.Thumbprint(ec);
    }

    public string RsaPath { get; }
    public string EcPath { get; }
    public string RsaKeyId { get; }
    public string EcKeyId { get; }

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Signing:Keys:0:Path"] = RsaPath,
        ["Signing:Keys:1:Path"] = EcPath,
    };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _folder.Dispose();
        }
    }
}
