namespace IdentityServer.Data;

/// <summary>
/// An initial access token for dynamic client registration (RFC 7591 §3): issued by an admin, shown once, stored only
/// as the SHA-256 of its value, usable until it expires or its uses run out.
/// </summary>
public sealed class InitialAccessToken
{
    public string Id { get; set; } = Guid.NewGuid().ToString("N");
    /// <summary>SHA-256 of the opaque value, base64url. Unique.</summary>
    public required string ReferenceId { get; set; }
    public string? Description { get; set; }
    /// <summary>The admin who issued it (user id or CLI actor).</summary>
    public required string CreatedBy { get; set; }
    public DateTime CreationDate { get; set; }
    public DateTime ExpirationDate { get; set; }
    /// <summary>How many more registrations it allows; decremented by a conditional UPDATE, so concurrent uses cannot overspend it.</summary>
    public int RemainingUses { get; set; }
}
