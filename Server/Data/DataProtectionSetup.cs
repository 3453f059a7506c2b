using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.DataProtection;

namespace IdentityServer.Data;

/// <summary>Where the Data Protection keys are encrypted at rest (section <c>DataProtection</c>).</summary>
public sealed class DataProtectionOptions
{
    public const string Section = "DataProtection";

    /// <summary>
    /// Certificates (PFX, or PEM with the private key in the same file) that encrypt the keys stored in the database. The
    /// first encrypts new keys; every one can decrypt, so a certificate is rotated by putting the new one first and keeping
    /// the old one until the keys it encrypted have expired (90 days).
    /// </summary>
    public List<CertificateFile> Certificates { get; set; } = [];
}

public sealed class CertificateFile
{
    public string Path { get; set; } = "";
    public string? Password { get; set; }
}

public static class DataProtectionSetup
{
    /// <summary>
    /// The category whose warning says a new key is stored unencrypted. Without a certificate that is the documented
    /// choice, said once at start (<see cref="UnencryptedKeysNotice"/>), not at every key.
    /// </summary>
    private const string KeyManagerCategory = "Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager";

    public const string UnencryptedKeysNotice =
        "Data Protection keys (they protect session cookies and antiforgery tokens) are stored in the database without " +
        "encryption at rest: configure DataProtection:Certificates:0:Path to encrypt them (docs/operations.md).";

    public static IServiceCollection AddSharedDataProtection(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSetting<DataProtectionOptions>(DataProtectionOptions.Section);
        var certificates = options.Certificates.Select((file, i) => Load(file, $"{DataProtectionOptions.Section}:Certificates:{i}")).ToArray();

        // One application name for every instance, whatever its content root, so they share one key ring, kept in the
        // database (the package's repository: every instance decrypts every other instance's cookies and antiforgery
        // tokens, and restarts keep sessions valid). A key unknown to an instance makes its key ring reload, so a key made
        // elsewhere is picked up on first sight.
        var dataProtection = services.AddDataProtection()
            .SetApplicationName("IdentityServer")
            .PersistKeysToDbContext<IdentityDbContext>();
        if (certificates.Length > 0)
        {
            // ASVS 6.4.1: key material encrypted at rest; a database read alone no longer opens cookies.
            dataProtection.ProtectKeysWithCertificate(certificates[0]).UnprotectKeysWithAnyCertificate(certificates);
        }
        else
        {
            services.AddLogging(logging => logging.AddFilter(KeyManagerCategory, LogLevel.Error));
            services.AddHostedService<UnencryptedKeysWarning>();
        }

        return services;
    }

    private static X509Certificate2 Load(CertificateFile file, string setting)
    {
        if (string.IsNullOrWhiteSpace(file.Path) || !File.Exists(file.Path))
        {
            throw new StartupConfigurationException(setting + ":Path", $"the certificate file '{file.Path}' does not exist.");
        }

        X509Certificate2 certificate;
        try
        {
            var extension = System.IO.Path.GetExtension(file.Path);
            certificate = extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase)
                ? X509CertificateLoader.LoadPkcs12FromFile(file.Path, file.Password, X509KeyStorageFlags.EphemeralKeySet)
                : X509Certificate2.CreateFromPemFile(file.Path);
        }
        catch (CryptographicException e)
        {
            throw new StartupConfigurationException(setting + ":Path", $"'{file.Path}' could not be read as a certificate with its private key ({e.Message}).");
        }

        if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
        {
            throw new StartupConfigurationException(setting + ":Path", $"'{file.Path}' needs an RSA certificate with its private key (keys are decrypted with it).");
        }

        return certificate;
    }

    /// <summary>
    /// The framework reads the key ring at start, from a hosted service that every AddDataProtection (authentication,
    /// antiforgery, Identity ...) registers again, so this runs after all of them. Our key ring lives in the database,
    /// which may still be migrating then (Database:StartInBackground): it is read on first use instead, by the first
    /// request that protects or reads a cookie, which the start gate holds until the database is ready.
    /// </summary>
    public static IServiceCollection ReadKeyRingOnFirstUse(this IServiceCollection services)
    {
        var warmUps = services.Where(d => d.ServiceType == typeof(IHostedService)
            && d.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService").ToList();
        foreach (var warmUp in warmUps)
        {
            services.Remove(warmUp);
        }

        return services;
    }
}

/// <summary>Says once, at start outside Development, that the key ring is stored unencrypted, and how to change that.</summary>
internal sealed class UnencryptedKeysWarning(IHostEnvironment environment, ILogger<UnencryptedKeysWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!environment.IsDevelopment())
        {
#pragma warning disable CA1848, CA2254 // once per start; the text is a documented constant
            logger.LogWarning(DataProtectionSetup.UnencryptedKeysNotice);
#pragma warning restore CA1848, CA2254
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
