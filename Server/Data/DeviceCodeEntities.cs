namespace IdentityServer.Data;

/// <summary>
/// A device authorization (RFC 8628 §3.2) waiting for, or answered by, a person on the user-code page. Both codes are
/// stored only as SHA-256 hashes. <see cref="Payload"/> holds what was asked (scopes, resources) and, once approved,
/// the person's sign-in facts the token endpoint needs (claims, auth_time, amr, acr), as a code's payload does.
/// </summary>
public sealed class DeviceCode
{
    public string Id { get; set; } = Guid.NewGuid().ToString("N");
    public required string ApplicationId { get; set; }
    public OAuthApplication? Application { get; set; }
    /// <summary>SHA-256 of the device_code, base64url. Unique.</summary>
    public required string DeviceCodeHash { get; set; }
    /// <summary>SHA-256 of the normalized user_code (8 letters, no dash), base64url. Unique.</summary>
    public required string UserCodeHash { get; set; }
    /// <summary>pending, approved, denied or redeemed (<see cref="DeviceCodeStatuses"/>).</summary>
    public required string Status { get; set; } = DeviceCodeStatuses.Pending;
    /// <summary>The person who approved or denied; null while pending.</summary>
    public string? Subject { get; set; }
    public string? Payload { get; set; }
    public DateTime CreationDate { get; set; }
    public DateTime ExpirationDate { get; set; }
    /// <summary>The polling interval in seconds; raised by 5 on each slow_down (RFC 8628 §3.5).</summary>
    public int Interval { get; set; }
    /// <summary>The earliest time the client may poll again.</summary>
    public DateTime NextPollDate { get; set; }
    public string ConcurrencyToken { get; set; } = Guid.NewGuid().ToString("N");
}

public static class DeviceCodeStatuses
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Denied = "denied";
    public const string Redeemed = "redeemed";
}
