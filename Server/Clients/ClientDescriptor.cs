using System.Collections.Frozen;
using System.Text.Json;
using IdentityServer.Data;

namespace IdentityServer.Clients;

/// <summary>
/// A client as the protocol sees it: the Applications row parsed once (JSON columns into sets), immutable, cached.
/// Permissions are prefixed strings, shaped like OpenIddict's: <c>gt:</c> grant type, <c>scp:</c> scope,
/// <c>rst:</c> resource (audience) the client may ask for, <c>ept:introspection</c> the right to introspect.
/// </summary>
public sealed class ClientDescriptor
{
    public const string GrantTypePrefix = "gt:";
    public const string ScopePrefix = "scp:";
    public const string ResourcePrefix = "rst:";
    public const string IntrospectionPermission = "ept:introspection";
    public const string RevocationPermission = "ept:revocation";
    /// <summary>
    /// A service account: the client's own client_credentials tokens with the admin scope open the admin API. Set only
    /// by the <c>clients add-service-account</c> command (someone with the server's configuration and database), never
    /// through the API, the pages or dynamic registration; an admin edit of the client keeps it.
    /// </summary>
    public const string AdminServiceAccountPermission = "ept:admin_api";

    public required string Id { get; init; }
    public required string ClientId { get; init; }
    public required string DisplayName { get; init; }
    public required bool IsConfidential { get; init; }
    public required bool RequiresConsent { get; init; }
    public required bool Enabled { get; init; }
    public string? LogoUri { get; init; }
    public string? ClientUri { get; init; }
    public string? SecretHash { get; init; }
    public string? PreviousSecretHash { get; init; }
    public DateTime? PreviousSecretExpiresAt { get; init; }
    public required FrozenSet<string> RedirectUris { get; init; }
    public required FrozenSet<string> PostLogoutRedirectUris { get; init; }
    public required FrozenSet<string> GrantTypes { get; init; }
    public required FrozenSet<string> Scopes { get; init; }
    public required FrozenSet<string> Resources { get; init; }
    public required bool CanIntrospect { get; init; }
    /// <summary>See <see cref="AdminServiceAccountPermission"/>.</summary>
    public bool IsAdminServiceAccount { get; init; }
    /// <summary>The resource (audience) this client serves when it is a resource server; by default its client_id.</summary>
    public required string ResourceIdentifier { get; init; }
    public required ClientSettings Settings { get; init; }

    public bool AllowsGrant(string grantType) => GrantTypes.Contains(grantType);

    public static ClientDescriptor From(OAuthApplication application)
    {
        var permissions = ReadArray(application.Permissions);
        var settings = JsonSerializer.Deserialize(application.Settings, ClientJsonContext.Default.ClientSettings) ?? new ClientSettings();
        return new ClientDescriptor
        {
            Id = application.Id,
            ClientId = application.ClientId,
            DisplayName = application.DisplayName,
            IsConfidential = application.ClientType == ClientTypes.Confidential,
            RequiresConsent = application.ConsentType != ConsentTypes.Implicit,
            Enabled = application.Enabled,
            LogoUri = application.LogoUri,
            ClientUri = application.ClientUri,
            SecretHash = application.ClientSecretHash,
            PreviousSecretHash = application.PreviousClientSecretHash,
            PreviousSecretExpiresAt = application.PreviousSecretExpiresAt,
            RedirectUris = ReadArray(application.RedirectUris).ToFrozenSet(StringComparer.Ordinal),
            PostLogoutRedirectUris = ReadArray(application.PostLogoutRedirectUris).ToFrozenSet(StringComparer.Ordinal),
            GrantTypes = WithPrefix(permissions, GrantTypePrefix),
            Scopes = WithPrefix(permissions, ScopePrefix),
            Resources = WithPrefix(permissions, ResourcePrefix),
            CanIntrospect = permissions.Contains(IntrospectionPermission),
            IsAdminServiceAccount = permissions.Contains(AdminServiceAccountPermission),
            ResourceIdentifier = string.IsNullOrEmpty(settings.Resource) ? application.ClientId : settings.Resource,
            Settings = settings,
        };
    }

    private static string[] ReadArray(string json) =>
        string.IsNullOrWhiteSpace(json) ? [] : JsonSerializer.Deserialize(json, ClientJsonContext.Default.StringArray) ?? [];

    private static FrozenSet<string> WithPrefix(string[] permissions, string prefix) =>
        permissions.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).Select(p => p[prefix.Length..]).ToFrozenSet(StringComparer.Ordinal);
}
