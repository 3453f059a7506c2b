using IdentityServer.Hosting;

namespace IdentityServer.Protocol.DPoP;

/// <summary>How DPoP proofs (RFC 9449) are checked, server-wide (section <c>DPoP</c>, docs/configuration.md).</summary>
public sealed class DPoPOptions
{
    public const string Section = "DPoP";

    /// <summary>The asymmetric JWS algorithms of RFC 7518 this server verifies (RFC 9449 §4.3 check 5: never none or a MAC).</summary>
    public static readonly IReadOnlyList<string> Supported = ["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"];

    /// <summary>
    /// Whether every proof must carry a nonce this server issued (RFC 9449 §8 at the token endpoint, §9 at userinfo).
    /// Off by default: the iat window and the jti cache already bound a proof's use; a nonce also covers clients whose
    /// clock is off, and proofs made ahead of time by an attacker who briefly held the key.
    /// </summary>
    public bool RequireNonce { get; set; }

    /// <summary>How old a proof's iat may be (§4.3 check 11, §11.1). Its jti is remembered that long.</summary>
    public TimeSpan ProofLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How far ahead of the server's clock a proof's iat may be.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a nonce this server issued is accepted.</summary>
    public TimeSpan NonceLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The algorithms accepted and advertised (dpop_signing_alg_values_supported); null: all of <see cref="Supported"/>.</summary>
    public List<string>? SigningAlgorithms { get; set; }

    public IReadOnlyList<string> Algorithms => SigningAlgorithms is { Count: > 0 } configured ? configured : Supported;

    internal void Validate()
    {
        foreach (var algorithm in Algorithms.Where(a => !Supported.Contains(a)))
        {
            throw new StartupConfigurationException($"{Section}:{nameof(SigningAlgorithms)}",
                $"'{algorithm}' is not an asymmetric algorithm this server verifies ({string.Join(", ", Supported)}).");
        }

        Positive(nameof(ProofLifetime), ProofLifetime);
        Positive(nameof(NonceLifetime), NonceLifetime);
        if (ClockSkew < TimeSpan.Zero)
        {
            throw new StartupConfigurationException($"{Section}:{nameof(ClockSkew)}", "must not be negative.");
        }
    }

    private static void Positive(string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new StartupConfigurationException($"{Section}:{name}", "must be a positive duration.");
        }
    }
}
