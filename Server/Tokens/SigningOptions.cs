namespace IdentityServer.Tokens;

public sealed class SigningOptions
{
    public const string Section = "Signing";

    /// <summary>The first key signs; the others are only published in the JWKS, so tokens they signed keep validating.</summary>
    public List<SigningKeyFile> Keys { get; set; } = [];

    /// <summary>
    /// Where the Development key is generated and kept when no key is configured (gitignored). By default it sits in
    /// the data folder (<c>Database:DataDirectory</c>/keys), next to the SQLite database it belongs with.
    /// </summary>
    public string? DevelopmentKeyPath { get; set; }
}

public sealed class SigningKeyFile
{
    /// <summary>PEM (RSA or EC private key, optionally encrypted) or PFX/PKCS#12 file.</summary>
    public string? Path { get; set; }
    public string? Password { get; set; }
}
