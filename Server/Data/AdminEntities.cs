namespace IdentityServer.Data;

/// <summary>
/// One audited event: an administrative change (who made it, what it was, to what, and when), and since the AuditLog
/// migration every security event too (sign-in, provider links, consent, token reuse and revocation, sessions), with the
/// caller's address, the client concerned and the outcome. Rows are only ever added (and pruned after
/// Pruning:AuditRetention); details never hold a secret or a token (a rotated secret is recorded as "rotated").
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
    /// <summary>The area of the event (<see cref="AuditKinds"/>); rows from before the column existed are admin changes.</summary>
    public string Kind { get; set; } = AuditKinds.Admin;
    /// <summary><see cref="AuditOutcomes.Success"/> or <see cref="AuditOutcomes.Failure"/>.</summary>
    public string Outcome { get; set; } = AuditOutcomes.Success;
    /// <summary>The address of the request that caused it (after trusted forwarded headers); null outside a request.</summary>
    public string? IpAddress { get; set; }
    /// <summary>The client_id concerned, if any.</summary>
    public string? ClientId { get; set; }
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
