namespace IdentityServer.Clients.Admin;

/// <summary>Settings of the admin API and pages (section <c>Admin</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>How long a rotated-out client secret keeps working, so a deployment can switch without downtime.</summary>
    public TimeSpan SecretRotationGracePeriod { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>Dynamic client registration (RFC 7591), section <c>DynamicClientRegistration</c>. Off by default.</summary>
public sealed class DynamicRegistrationOptions
{
    public const string Section = "DynamicClientRegistration";
    public const string Path = "/connect/register";

    public bool Enabled { get; set; }

    /// <summary>The scopes a self-registered client may have; a registration asking for others is refused.</summary>
    public List<string> AllowedScopes { get; set; } = [ScopeCatalog.OpenId, ScopeCatalog.Profile, ScopeCatalog.Email, ScopeCatalog.OfflineAccess];

    /// <summary>How long an initial access token an admin issues stays usable, unless the admin says otherwise.</summary>
    public TimeSpan InitialAccessTokenLifetime { get; set; } = TimeSpan.FromDays(1);
}
