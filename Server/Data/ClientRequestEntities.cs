namespace IdentityServer.Data;

/// <summary>
/// A pushed authorization request (RFC 9126): the parameters a client sent to the PAR endpoint, kept until the
/// authorization endpoint uses them once. Found by the SHA-256 of the random part of its request_uri, never by the
/// value itself. A row is first claimed by one browser (<see cref="ClaimedAt"/>, <see cref="BindingHash"/>), then
/// deleted when the code is issued; expired rows are pruned.
/// </summary>
public sealed class PushedAuthorizationRequest
{
    public string Id { get; set; } = Guid.NewGuid().ToString("N");
    /// <summary>SHA-256 of the random part of the request_uri, base64url. Unique.</summary>
    public required string ReferenceId { get; set; }
    /// <summary>The client that pushed it: only this client_id may use it at the authorization endpoint.</summary>
    public required string ClientId { get; set; }
    /// <summary>The validated request parameters as a JSON object of name → array of values.</summary>
    public required string Parameters { get; set; }
    public DateTime CreationDate { get; set; }
    public DateTime ExpirationDate { get; set; }
    /// <summary>When the authorization endpoint first used it (null: not yet used).</summary>
    public DateTime? ClaimedAt { get; set; }
    /// <summary>SHA-256 of the random value the claiming browser holds in a cookie; later steps must present it.</summary>
    public string? BindingHash { get; set; }
}

/// <summary>
/// A client assertion (RFC 7523 private_key_jwt) that was accepted: remembered until it expires so that the same
/// <c>jti</c> is refused a second time (RFC 7523 §3 item 7), by every instance sharing the database.
/// </summary>
public sealed class UsedClientAssertion
{
    /// <summary>SHA-256 of client_id and jti, base64url: the primary key, so a second insert of the same pair fails.</summary>
    public required string Id { get; set; }
    public required string ClientId { get; set; }
    public DateTime ExpirationDate { get; set; }
}
