namespace IdentityServer.Data;

/// <summary>
/// A DPoP proof already accepted (RFC 9449 §11.1): the hash of its key thumbprint and jti, kept until its iat leaves the
/// acceptance window, after which the proof would be refused as stale anyway and pruning deletes the row. In the
/// database, so a proof replayed to another instance is refused there too.
/// </summary>
public sealed class DPoPProofJti
{
    /// <summary>base64url(SHA-256(jkt + " " + jti)): fixed length, whatever the client put in jti.</summary>
    public required string Id { get; set; }

    public DateTime ExpirationDate { get; set; }
}
