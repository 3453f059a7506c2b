namespace IdentityServer.Protocol.DPoP;

/// <summary>RFC 9449 error codes (§5 and §7.1 invalid_dpop_proof, §8 and §9 use_dpop_nonce).</summary>
public static class DPoPErrors
{
    public const string InvalidProof = "invalid_dpop_proof";
    public const string UseNonce = "use_dpop_nonce";
}

/// <summary>A DPoP proof that passed every check: the RFC 7638 thumbprint of its key (what tokens are bound to, cnf.jkt).</summary>
public sealed record DPoPProof(string Thumbprint, string Jti);

/// <summary>What a proof must match: the request it came with (§4.3 checks 8, 9) and, at a resource, the access token (§4.3 check 12, ath).</summary>
public sealed record DPoPRequirement(string Method, string Url, string? AccessToken = null);

/// <summary>The outcome of checking a proof: the proof, or an RFC 9449 error code with a description for the client.</summary>
public readonly record struct DPoPCheck(DPoPProof? Proof, string? Error, string? Description)
{
    public static DPoPCheck Invalid(string description) => new(null, DPoPErrors.InvalidProof, description);
}
