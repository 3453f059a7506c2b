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
}
