namespace IdentityServer.Data;

/// <summary>
/// One audited event (table AuditEntries, written only by IdentityServer.Audit.AuditLog): an administrative change (who
/// made it, what it was, to what, and when) or a security event (sign-in, provider links, consent, token reuse and
/// revocation, sessions), with the caller's address, the client concerned and the outcome. Rows are only ever added
/// (and pruned after Pruning:AuditRetention); details never hold a secret or a token (a rotated secret is recorded as
/// "rotated"). The table was AdminAuditEntries until the AuditEntriesTable migration, from when it held admin changes only.
/// </summary>
public sealed class AuditEntry
{
    public string Id { get; set; } = Guid.NewGuid().ToString("N");
    public DateTime Timestamp { get; set; }
    /// <summary>
    /// The user id of the person or admin, or a non-user actor: <c>client:&lt;client_id&gt;</c>, <c>anonymous</c>,
    /// <c>cli:&lt;os user&gt;</c>, <c>configuration</c>, <c>registration:&lt;token id&gt;</c>.
    /// </summary>
    public required string ActorId { get; set; }
    /// <summary>A readable name of the actor (the username) at the time of the event.</summary>
    public string? ActorName { get; set; }
    /// <summary>What was done, for example <c>client.created</c>, <c>scope.deleted</c>, <c>sign_in.password</c>.</summary>
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
