using System.Text.Json.Serialization;
using IdentityServer.Clients;

namespace IdentityServer.Protocol;

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

/// <summary>An RFC 7591 §3.2.2 error: <c>error</c> and a sentence for people in <c>error_description</c>. The admin API answers its errors in this shape too.</summary>
public sealed record ErrorResponse(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string? ErrorDescription)
{
    public static ErrorResponse From(ClientMetadataError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new ErrorResponse(error.Error, error.Description);
    }
}

/// <summary>RFC 7591 §2 client metadata, as a registering client sends it. Unknown fields are ignored (§2).</summary>
public sealed class RegistrationRequest
{
    [JsonPropertyName("redirect_uris")] public List<string>? RedirectUris { get; set; }
    [JsonPropertyName("token_endpoint_auth_method")] public string? TokenEndpointAuthMethod { get; set; }
    [JsonPropertyName("grant_types")] public List<string>? GrantTypes { get; set; }
    [JsonPropertyName("response_types")] public List<string>? ResponseTypes { get; set; }
    [JsonPropertyName("client_name")] public string? ClientName { get; set; }
    [JsonPropertyName("client_uri")] public string? ClientUri { get; set; }
    [JsonPropertyName("logo_uri")] public string? LogoUri { get; set; }
    [JsonPropertyName("scope")] public string? Scope { get; set; }
    [JsonPropertyName("software_statement")] public string? SoftwareStatement { get; set; }
    [JsonPropertyName("post_logout_redirect_uris")] public List<string>? PostLogoutRedirectUris { get; set; }
    [JsonPropertyName("backchannel_logout_uri")] public string? BackchannelLogoutUri { get; set; }
    [JsonPropertyName("backchannel_logout_session_required")] public bool? BackchannelLogoutSessionRequired { get; set; }
    /// <summary>§2: the client's public keys for private_key_jwt, by reference (preferred) or by value; never both.</summary>
    [JsonPropertyName("jwks_uri")] public string? JwksUri { get; set; }
    [JsonPropertyName("jwks")] public System.Text.Json.JsonElement? Jwks { get; set; }
    /// <summary>RFC 9126 §6: whether this client's authorization requests must be pushed.</summary>
    [JsonPropertyName("require_pushed_authorization_requests")] public bool? RequirePushedAuthorizationRequests { get; set; }
    [JsonPropertyName("dpop_bound_access_tokens")] public bool? DpopBoundAccessTokens { get; set; }
}

/// <summary>RFC 7591 §3.2.1: the client information response.</summary>
public sealed record RegistrationResponse(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("client_secret"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientSecret,
    [property: JsonPropertyName("client_id_issued_at")] long ClientIdIssuedAt,
    [property: JsonPropertyName("client_secret_expires_at"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ClientSecretExpiresAt,
    [property: JsonPropertyName("client_name")] string ClientName,
    [property: JsonPropertyName("redirect_uris")] IReadOnlyList<string> RedirectUris,
    [property: JsonPropertyName("post_logout_redirect_uris")] IReadOnlyList<string> PostLogoutRedirectUris,
    [property: JsonPropertyName("grant_types")] IReadOnlyList<string> GrantTypes,
    [property: JsonPropertyName("response_types")] IReadOnlyList<string> ResponseTypes,
    [property: JsonPropertyName("token_endpoint_auth_method")] string TokenEndpointAuthMethod,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("client_uri"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientUri,
    [property: JsonPropertyName("logo_uri"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LogoUri,
    [property: JsonPropertyName("jwks_uri"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? JwksUri = null,
    [property: JsonPropertyName("jwks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] System.Text.Json.JsonElement? Jwks = null,
    [property: JsonPropertyName("require_pushed_authorization_requests"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    bool? RequirePushedAuthorizationRequests = null);
