using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Data;

/// <summary>A registered OAuth client (table Applications). Collections are stored as JSON text, as OpenIddict does.</summary>
public sealed class OAuthApplication
{
    public string Id { get; set; } = Guid.NewGuid().ToString("N");
    public required string ClientId { get; set; }
    /// <summary>SHA-256 of the server-generated secret, base64url; null for public clients.</summary>
    public string? ClientSecretHash { get; set; }
    /// <summary>The previous secret's hash, accepted until <see cref="PreviousSecretExpiresAt"/> (rotation grace).</summary>
    public string? PreviousClientSecretHash { get; set; }
    public DateTime? PreviousSecretExpiresAt { get; set; }
    public required string ClientType { get; set; } = ClientTypes.Public;
    public required string ConsentType { get; set; } = ConsentTypes.Explicit;
    public required string DisplayName { get; set; }
    public string? LogoUri { get; set; }
    public string? ClientUri { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary>JSON array of exact redirect URIs.</summary>
    public string RedirectUris { get; set; } = "[]";
    /// <summary>JSON array of exact post-logout redirect URIs.</summary>
    public string PostLogoutRedirectUris { get; set; } = "[]";
    /// <summary>JSON array of permissions: "gt:authorization_code", "scp:profile", "ept:introspection", "rst:https://api".</summary>
    public string Permissions { get; set; } = "[]";
    /// <summary>JSON array of requirements, e.g. "ft:pkce".</summary>
    public string Requirements { get; set; } = "[]";
    /// <summary>JSON object of per-client settings (token lifetimes, resource identifier).</summary>
    public string Settings { get; set; } = "{}";
    public DateTime CreationDate { get; set; }
    public string ConcurrencyToken { get; set; } = Guid.NewGuid().ToString("N");
}

/// <summary>A grant: remembered consent (permanent) or one sign-in's token family (ad-hoc).</summary>
public sealed class OAuthAuthorization
{
    public string Id { get; set; } = Guid.NewGuid().ToString("N");
    public required string ApplicationId { get; set; }
    public OAuthApplication? Application { get; set; }
    public required string Subject { get; set; }
    public required string Status { get; set; } = Statuses.Valid;
    public required string Type { get; set; } = AuthorizationTypes.AdHoc;
    /// <summary>Space-separated granted scopes.</summary>
    public string Scopes { get; set; } = "";
    /// <summary>The sign-in session this grant was created in (for logout).</summary>
    public string? SessionId { get; set; }
    public DateTime CreationDate { get; set; }
    /// <summary>Absolute end of a refresh-token family; null for permanent consent.</summary>
    public DateTime? ExpirationDate { get; set; }
    public string ConcurrencyToken { get; set; } = Guid.NewGuid().ToString("N");
}

/// <remarks>All dates are UTC <see cref="DateTime"/>: SQLite can compare and order those, not DateTimeOffset.</remarks>
/// <summary>A reference token (authorization code or refresh token). Only the SHA-256 of its value is stored.</summary>
public sealed class OAuthToken
{
    public string Id { get; set; } = Guid.NewGuid().ToString("N");
    public required string ApplicationId { get; set; }
    public OAuthApplication? Application { get; set; }
    public string? AuthorizationId { get; set; }
    public OAuthAuthorization? Authorization { get; set; }
    public required string Subject { get; set; }
    public required string Type { get; set; }
    public required string Status { get; set; } = Statuses.Valid;
    /// <summary>SHA-256 of the opaque value, base64url. Unique.</summary>
    public required string ReferenceId { get; set; }
    /// <summary>JSON: what the token stands for (scopes, redirect_uri, code_challenge, nonce, auth_time, ...).</summary>
    public string? Payload { get; set; }
    public DateTime CreationDate { get; set; }
    public DateTime ExpirationDate { get; set; }
    public DateTime? RedemptionDate { get; set; }
    public string ConcurrencyToken { get; set; } = Guid.NewGuid().ToString("N");
}

/// <summary>A scope a client may request, and the resources (audiences) it grants access to.</summary>
public sealed class OAuthScope
{
    public string Id { get; set; } = Guid.NewGuid().ToString("N");
    public required string Name { get; set; }
    public string? DisplayName { get; set; }
    public string? Description { get; set; }
    /// <summary>JSON array of resource identifiers (access-token audiences).</summary>
    public string Resources { get; set; } = "[]";
    /// <summary>JSON array of the custom user claim types (AspNetUserClaims) this scope releases.</summary>
    public string Claims { get; set; } = "[]";
    public string ConcurrencyToken { get; set; } = Guid.NewGuid().ToString("N");
}

/// <summary>A revoked JWT access token, remembered until it would have expired anyway (RFC 7009 §2.1).</summary>
public sealed class RevokedAccessToken
{
    public required string Jti { get; set; }
    public DateTime ExpirationDate { get; set; }
}

/// <summary>Our user. Its <c>Id</c> is the stable subject (never a provider id, never the email).</summary>
public sealed class ApplicationUser : IdentityUser
{
    public string? Name { get; set; }
    public string? Picture { get; set; }
    public DateTime UpdatedAt { get; set; }
    /// <summary>Set when an admin forces a password reset: the next password sign-in must choose a new password first.</summary>
    public DateTime? PasswordChangeRequiredAt { get; set; }
}

public static class ClientTypes
{
    public const string Public = "public";
    public const string Confidential = "confidential";
}

public static class ConsentTypes
{
    /// <summary>First-party: no consent page.</summary>
    public const string Implicit = "implicit";
    /// <summary>Third-party: the user is asked.</summary>
    public const string Explicit = "explicit";
}

public static class Statuses
{
    public const string Valid = "valid";
    public const string Redeemed = "redeemed";
    public const string Revoked = "revoked";
}

public static class AuthorizationTypes
{
    public const string Permanent = "permanent";
    public const string AdHoc = "ad-hoc";
}

public static class TokenTypes
{
    public const string AuthorizationCode = "authorization_code";
    public const string RefreshToken = "refresh_token";
}

/// <summary>
/// A server-side sign-in session. The browser's cookie carries only a random key, of which the row keeps the SHA-256
/// (<see cref="Id"/>), so reading the table yields nothing to put in a cookie; the session's public id is <see cref="Sid"/>.
/// The authentication ticket lives here, so any instance can list or end a session, and ending it takes effect everywhere.
/// </summary>
public sealed class UserSession
{
    /// <summary>The SHA-256 (base64url) of the key the cookie carries (<c>OpaqueToken.Hash</c>), never the key itself.</summary>
    public required string Id { get; set; }
    /// <summary>The session id: the <c>sid</c> claim of ID and logout tokens and grants' <c>SessionId</c>. Not secret.</summary>
    public required string Sid { get; set; }
    public required string Subject { get; set; }
    /// <summary>The serialized authentication ticket (claims only, no secrets).</summary>
    public byte[] Ticket { get; set; } = [];
    public DateTime CreationDate { get; set; }
    public DateTime LastSeenDate { get; set; }
    /// <summary>The absolute end, however active the session is.</summary>
    public DateTime AbsoluteExpirationDate { get; set; }
    /// <summary>When the session ends if unused: last seen + idle timeout, capped by the absolute end. Pruning keys on it.</summary>
    public DateTime ExpirationDate { get; set; }
    public string? UserAgent { get; set; }
    public string? IpAddress { get; set; }
}
