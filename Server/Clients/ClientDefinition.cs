using System.Text.Json;
using System.Text.Json.Serialization;
using IdentityServer.Data;

namespace IdentityServer.Clients;

/// <summary>
/// Everything an admin decides about a client, in one shape shared by the admin API, the admin pages, the CLI,
/// configuration seeding and dynamic registration: each of them fills it, <see cref="ClientMetadataValidator"/> checks
/// it, and <see cref="ApplyTo"/> writes it to the Applications row.
/// </summary>
public sealed class ClientDefinition
{
    /// <summary>Null on creation means "generate one".</summary>
    public string? ClientId { get; set; }
    public string? DisplayName { get; set; }
    public string ClientType { get; set; } = ClientTypes.Confidential;
    public string ConsentType { get; set; } = ConsentTypes.Explicit;
    public string? LogoUri { get; set; }
    public string? ClientUri { get; set; }
    public IReadOnlyList<string> RedirectUris { get; set; } = [];
    public IReadOnlyList<string> PostLogoutRedirectUris { get; set; } = [];
    /// <summary>Empty means the RFC 7591 §2 default, authorization_code.</summary>
    public IReadOnlyList<string> GrantTypes { get; set; } = [];
    public IReadOnlyList<string> Scopes { get; set; } = [];
    /// <summary>Resources (audiences) the client may ask for with RFC 8707 <c>resource</c>; empty means those of its scopes.</summary>
    public IReadOnlyList<string> Resources { get; set; } = [];
    public bool CanIntrospect { get; set; }

    /// <summary>The per-client settings (resource identifier, token lifetimes, back-channel logout): the Settings column.</summary>
    [JsonIgnore]
    public ClientSettings Settings { get; set; } = new();

    /// <summary>The settings in this type's JSON (the audit log's details): flat, one property per setting, as in the admin API.</summary>
    [JsonExtensionData]
    public IDictionary<string, object?> SettingsJson => ClientSettings.Fields.ToDictionary(f => f.Name, f => f.Value(Settings));

    /// <summary>
    /// A secret supplied from outside. Only configuration seeding may supply one (from the environment); everywhere
    /// else the server generates secrets, and the validator refuses this field.
    /// </summary>
    [JsonIgnore] // never in audit details or responses
    public string? ClientSecret { get; set; }

    [JsonIgnore]
    public bool IsConfidential => ClientType == ClientTypes.Confidential;

    /// <summary>Whether the client authenticates with a secret: a confidential client not registered for private_key_jwt.</summary>
    [JsonIgnore]
    public bool UsesSecret => IsConfidential && Settings.TokenEndpointAuthMethod != ClientAuthenticationMethods.PrivateKeyJwt;

    [JsonIgnore]
    public IReadOnlyList<string> EffectiveGrantTypes => GrantTypes.Count == 0 ? [Clients.GrantTypes.AuthorizationCode] : GrantTypes;

    /// <summary>Writes the definition to the row. Permissions this definition does not manage (for example ept:revocation) are kept.</summary>
    public void ApplyTo(OAuthApplication row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var kept = ReadArray(row.Permissions).Where(p => !IsManagedPermission(p));
        var permissions = EffectiveGrantTypes.Select(g => ClientDescriptor.GrantTypePrefix + g)
            .Concat(Scopes.Select(s => ClientDescriptor.ScopePrefix + s))
            .Concat(Resources.Select(r => ClientDescriptor.ResourcePrefix + r))
            .Concat(CanIntrospect ? [ClientDescriptor.IntrospectionPermission] : [])
            .Concat(kept)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        row.ClientType = ClientType;
        row.ConsentType = ConsentType;
        row.DisplayName = string.IsNullOrWhiteSpace(DisplayName) ? row.ClientId : DisplayName.Trim();
        row.LogoUri = NullIfEmpty(LogoUri);
        row.ClientUri = NullIfEmpty(ClientUri);
        row.RedirectUris = Json(RedirectUris.Distinct(StringComparer.Ordinal));
        row.PostLogoutRedirectUris = Json(PostLogoutRedirectUris.Distinct(StringComparer.Ordinal));
        row.Permissions = Json(permissions);
        row.Settings = JsonSerializer.Serialize(Settings.Normalized(), ClientJsonContext.Default.ClientSettings);
        if (!IsConfidential)
        {
            // A public client has no secret (RFC 6749 §2.1): none, and no old one in its grace period either.
            row.ClientSecretHash = null;
            row.PreviousClientSecretHash = null;
            row.PreviousSecretExpiresAt = null;
        }
    }

    /// <summary>The definition of a stored client (what the admin pages and the API show and edit).</summary>
    public static ClientDefinition From(OAuthApplication row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var client = ClientDescriptor.From(row);
        return new ClientDefinition
        {
            ClientId = row.ClientId,
            DisplayName = row.DisplayName,
            ClientType = row.ClientType,
            ConsentType = row.ConsentType,
            LogoUri = row.LogoUri,
            ClientUri = row.ClientUri,
            RedirectUris = ReadArray(row.RedirectUris),
            PostLogoutRedirectUris = ReadArray(row.PostLogoutRedirectUris),
            GrantTypes = [.. client.GrantTypes.Order(StringComparer.Ordinal)],
            Scopes = [.. client.Scopes.Order(StringComparer.Ordinal)],
            Resources = [.. client.Resources.Order(StringComparer.Ordinal)],
            CanIntrospect = client.CanIntrospect,
            Settings = client.Settings, // parsed just now for this definition: not the cached descriptor's
        };
    }

    private static bool IsManagedPermission(string permission) =>
        permission.StartsWith(ClientDescriptor.GrantTypePrefix, StringComparison.Ordinal)
        || permission.StartsWith(ClientDescriptor.ScopePrefix, StringComparison.Ordinal)
        || permission.StartsWith(ClientDescriptor.ResourcePrefix, StringComparison.Ordinal)
        || permission == ClientDescriptor.IntrospectionPermission;

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    internal static string Json(IEnumerable<string> values) => JsonSerializer.Serialize(values.ToArray(), ClientJsonContext.Default.StringArray);

    internal static string[] ReadArray(string json) =>
        string.IsNullOrWhiteSpace(json) ? [] : JsonSerializer.Deserialize(json, ClientJsonContext.Default.StringArray) ?? [];
}
