namespace IdentityServer.Clients;

/// <summary>
/// Declarative registration: clients and scopes listed in configuration are created or brought up to date at start.
/// Running it again with the same configuration changes nothing.
/// </summary>
public sealed class ClientSeedOptions
{
    public const string Section = "Seed";

    public List<SeedClient> Clients { get; set; } = [];
    public List<SeedScope> Scopes { get; set; } = [];
}

public sealed class SeedClient
{
    public string ClientId { get; set; } = "";
    /// <summary>Only for confidential clients; give it through an environment variable or a secret store, never in a committed file.</summary>
    public string? ClientSecret { get; set; }
    public string Type { get; set; } = "public";
    /// <summary><c>implicit</c> (first-party, no consent page) or <c>explicit</c> (third-party).</summary>
    public string ConsentType { get; set; } = "explicit";
    public string? DisplayName { get; set; }
    public List<string> RedirectUris { get; set; } = [];
    public List<string> PostLogoutRedirectUris { get; set; } = [];
    public List<string> GrantTypes { get; set; } = [];
    public List<string> Scopes { get; set; } = [];
    public List<string> Resources { get; set; } = [];
    public bool CanIntrospect { get; set; }
    /// <summary>The resource identifier this client serves as a resource server (default: its client_id).</summary>
    public string? Resource { get; set; }
}

public sealed class SeedScope
{
    public string Name { get; set; } = "";
    public string? DisplayName { get; set; }
    public string? Description { get; set; }
    public List<string> Resources { get; set; } = [];
}
