namespace IdentityServer.Data;

/// <summary>
/// One administrative change: who made it, what it was, to what, and when. Rows are only ever added; details never
/// hold a secret (a rotated secret is recorded as "rotated", not as its value).
/// </summary>
public sealed class AdminAuditEntry
{
    public string Id { get; set; } = Guid.NewGuid().ToString("N");
    public DateTime Timestamp { get; set; }
    /// <summary>The user id of the admin, or a non-user actor: <c>cli:&lt;os user&gt;</c>, <c>configuration</c>, <c>registration:&lt;token id&gt;</c>.</summary>
    public required string ActorId { get; set; }
    /// <summary>A readable name of the actor (the admin's username) at the time of the change.</summary>
    public string? ActorName { get; set; }
    /// <summary>What was done, for example <c>client.created</c>, <c>client.disabled</c>, <c>scope.deleted</c>.</summary>
    public required string Action { get; set; }
    /// <summary>What it was done to, for example <c>client:web</c>, <c>scope:api</c>, <c>user:&lt;id&gt;</c>.</summary>
    public required string Target { get; set; }
    /// <summary>JSON with the changed values (never secrets), or null.</summary>
    public string? Details { get; set; }
}

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
