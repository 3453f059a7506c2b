using IdentityServer.Clients;

namespace IdentityServer.Admin;

/// <summary>Settings of the admin API and pages (section <c>Admin</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>
    /// How long a rotated-out client secret keeps working, so a deployment can switch without downtime. Seeding reads the
    /// same setting for a declared secret that changed (<see cref="ClientSeedOptions.SecretRotationGracePeriod"/>).
    /// </summary>
    public TimeSpan SecretRotationGracePeriod { get; set; } = ClientSecrets.DefaultRotationGracePeriod;

    /// <summary>
    /// Whether administrators must have signed in with a second factor: the admin pages then refuse a single-factor
    /// session (sending the person to /account/security), and the admin API a token whose amr lacks "mfa" (RFC 9470
    /// insufficient_user_authentication). Service accounts (client_credentials) are not people and are not affected.
    /// </summary>
    public bool RequireTwoFactor { get; set; }
}
