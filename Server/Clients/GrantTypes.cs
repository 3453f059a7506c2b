namespace IdentityServer.Clients;

/// <summary>
/// The grant_type values of RFC 6749 (§4.1.3, §4.4.2, §6), as client permissions and the client rules speak of them.
/// Which ones the token endpoint serves is the protocol's grant registry's answer (<see cref="IGrantTypeCatalog"/>).
/// </summary>
public static class GrantTypes
{
    public const string AuthorizationCode = "authorization_code";
    public const string RefreshToken = "refresh_token";
    public const string ClientCredentials = "client_credentials";
    /// <summary>RFC 8628 §3.4: the device authorization grant.</summary>
    public const string DeviceCode = "urn:ietf:params:oauth:grant-type:device_code";
    /// <summary>RFC 8693 §2.1: token exchange.</summary>
    public const string TokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
}

/// <summary>
/// The grant types the token endpoint serves, in registration order: the one list that the token endpoint, discovery's
/// grant_types_supported and the client metadata rules all read. The protocol's grant registry provides it.
/// </summary>
public interface IGrantTypeCatalog
{
    IReadOnlyList<string> GrantTypes { get; }
}
