namespace IdentityServer.Data;

/// <summary>The kinds of audit entries (<see cref="AuditEntry.Kind"/>): what area of the server an event belongs to.</summary>
public static class AuditKinds
{
    /// <summary>Changes made by an admin, the command line or configuration (clients, scopes, users, registration tokens).</summary>
    public const string Admin = "admin";

    /// <summary>Sign-in with a password or a provider, and registration.</summary>
    public const string SignIn = "sign_in";

    /// <summary>A person's own account changes: password changed, set or reset (and its request), email changed or verified, profile.</summary>
    public const string Account = "account";

    /// <summary>A provider account linked to or unlinked from a user.</summary>
    public const string ExternalLogin = "external_login";

    /// <summary>Consent given on the consent page, or taken back by the person.</summary>
    public const string Consent = "consent";

    /// <summary>Token security events: refresh-token reuse, code replay, revocation by a client (RFC 7009).</summary>
    public const string Token = "token";

    /// <summary>Sign-in sessions ended by the person or by an app's logout.</summary>
    public const string Session = "session";
}

/// <summary>Whether the audited attempt did what was asked.</summary>
public static class AuditOutcomes
{
    public const string Success = "success";
    public const string Failure = "failure";
}
