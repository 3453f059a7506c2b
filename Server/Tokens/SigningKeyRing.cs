using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityServer.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tokens;

/// <summary>One signing key with its stable key id (the RFC 7638 thumbprint) and algorithm.</summary>
public sealed record SigningKey(AsymmetricSecurityKey Key, string KeyId, string Algorithm)
{
    public SigningCredentials Credentials { get; } = new(Key, Algorithm) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = true } };
}

/// <summary>
/// The keys tokens are signed with: the first configured key signs, all are published. Loaded once at start;
/// a key change is a configuration change followed by a restart, which also rebuilds discovery and JWKS.
/// </summary>
public sealed class SigningKeyRing
{
    public SigningKeyRing(IReadOnlyList<SigningKey> keys)
    {
        if (keys.Count == 0)
        {
            throw new ArgumentException("At least one signing key is needed.", nameof(keys));
        }

        Keys = keys;
    }

    public SigningKey Active => Keys[0];

    public IReadOnlyList<SigningKey> Keys { get; }

    public IEnumerable<SecurityKey> VerificationKeys => Keys.Select(k => (SecurityKey)k.Key);

    public static SigningKeyRing Load(SigningOptions options, IHostEnvironment environment, string dataDirectory = "data")
    {
        var configured = options.Keys.Where(k => !string.IsNullOrWhiteSpace(k.Path)).ToList();
        if (configured.Count > 0)
        {
            return new SigningKeyRing(configured.Select((file, index) => LoadFile(file, index)).ToList());
        }

        if (!environment.IsDevelopment() && !environment.IsEnvironment("Testing"))
        {
            throw new StartupConfigurationException("Signing:Keys",
                "no signing key is configured. Outside Development a key file is required; certs/README.md shows how to make one.");
        }

        var path = ResolvePath(options.DevelopmentKeyPath ?? Path.Combine(dataDirectory, "keys", "development-signing-key.pem"));
        try
        {
            return new SigningKeyRing([LoadOrCreateDevelopmentKey(path)]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Kept under the data folder unless Signing:DevelopmentKeyPath says otherwise; that setting is the one to change.
            var setting = options.DevelopmentKeyPath is null ? "Database:DataDirectory" : "Signing:DevelopmentKeyPath";
            throw new StartupConfigurationException(setting, $"cannot keep the Development signing key at '{path}': {e.Message}");
        }
    }

    private static SigningKey LoadFile(SigningKeyFile file, int index)
    {
        var setting = $"Signing:Keys:{index}:Path";
        var path = ResolvePath(file.Path!);
        try
        {
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                using var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, file.Password,
                    X509KeyStorageFlags.EphemeralKeySet | X509KeyStorageFlags.Exportable);
                AsymmetricAlgorithm algorithm = certificate.GetRSAPrivateKey() as AsymmetricAlgorithm
                    ?? certificate.GetECDsaPrivateKey()
                    ?? throw new StartupConfigurationException(setting, $"'{path}' holds no RSA or EC private key.");
                return FromAlgorithm(algorithm, setting);
            }

            var pem = File.ReadAllText(path);
            return FromPem(pem, file.Password, setting);
        }
        catch (StartupConfigurationException)
        {
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new StartupConfigurationException(setting, $"cannot read the signing key '{path}': {e.Message}");
        }
    }

    private static SigningKey FromPem(string pem, string? password, string setting)
    {
        var isEc = pem.Contains("EC PRIVATE KEY", StringComparison.Ordinal) || IsEcPkcs8(pem, password);
        AsymmetricAlgorithm algorithm = isEc ? ECDsa.Create() : RSA.Create();
        if (string.IsNullOrEmpty(password))
        {
            algorithm.ImportFromPem(pem);
        }
        else
        {
            algorithm.ImportFromEncryptedPem(pem, password);
        }

        return FromAlgorithm(algorithm, setting);
    }

    private static bool IsEcPkcs8(string pem, string? password)
    {
        using var probe = ECDsa.Create();
        try
        {
            if (string.IsNullOrEmpty(password))
            {
                probe.ImportFromPem(pem);
            }
            else
            {
                probe.ImportFromEncryptedPem(pem, password);
            }

            return true;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    internal static SigningKey FromAlgorithm(AsymmetricAlgorithm algorithm, string setting)
    {
        switch (algorithm)
        {
            case RSA rsa:
                if (rsa.KeySize < 2048)
                {
                    throw new StartupConfigurationException(setting, $"RSA keys must be at least 2048 bits (this one is {rsa.KeySize}).");
                }

                return WithThumbprint(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256);
            case ECDsa ec:
                var algorithmName = ec.KeySize switch
                {
                    256 => SecurityAlgorithms.EcdsaSha256,
                    384 => SecurityAlgorithms.EcdsaSha384,
                    521 => SecurityAlgorithms.EcdsaSha512,
                    _ => throw new StartupConfigurationException(setting, $"unsupported EC key size {ec.KeySize}."),
                };
                return WithThumbprint(new ECDsaSecurityKey(ec), algorithmName);
            default:
                throw new StartupConfigurationException(setting, "only RSA and EC keys can sign.");
        }
    }

    private static SigningKey WithThumbprint(AsymmetricSecurityKey key, string algorithm)
    {
        // A stable kid: the RFC 7638 JWK thumbprint, the same on every instance and after every restart.
        var kid = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
        key.KeyId = kid;
        return new SigningKey(key, kid, algorithm);
    }

    private static SigningKey LoadOrCreateDevelopmentKey(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var rsa = RSA.Create(2048);
            var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllText(temporary, rsa.ExportPkcs8PrivateKeyPem());
            try
            {
                // Another instance may have created it first; whoever wins, every instance then reads the same key.
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        }

        return FromPem(File.ReadAllText(path), null, "Signing:DevelopmentKeyPath");
    }

    /// <summary>Relative paths are taken from the working directory, the repository root under <c>dotnet run --project Server</c>.</summary>
    private static string ResolvePath(string path) => Path.GetFullPath(path);
}
