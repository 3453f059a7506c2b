using IdentityServer.Admin;
using IdentityServer.Clients;
using IdentityServer.Data;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>
/// The client form of the admin pages: lists as one entry per line, grant types as checkboxes, lifetimes in seconds.
/// It only converts; the rules are <see cref="ClientMetadataValidator"/>'s, the same as the API's.
/// </summary>
public sealed class ClientForm
{
    public string? ClientId { get; set; }
    public string? DisplayName { get; set; }
    public string ClientType { get; set; } = ClientTypes.Confidential;
    public string ConsentType { get; set; } = ConsentTypes.Explicit;
    public string? LogoUri { get; set; }
    public string? ClientUri { get; set; }
    public string? RedirectUris { get; set; }
    public string? PostLogoutRedirectUris { get; set; }
    public bool AuthorizationCode { get; set; } = true;
    public bool RefreshToken { get; set; } = true;
    public bool ClientCredentials { get; set; }
    /// <summary>Space- or line-separated scope names.</summary>
    public string? Scopes { get; set; } = "openid profile email offline_access";
    public string? Resources { get; set; }
    public bool CanIntrospect { get; set; }
    public string? Resource { get; set; }
    public long? AccessTokenLifetime { get; set; }
    public long? IdentityTokenLifetime { get; set; }
    public long? AuthorizationCodeLifetime { get; set; }
    public long? RefreshTokenSlidingLifetime { get; set; }
    public long? RefreshTokenAbsoluteLifetime { get; set; }
    public string? BackchannelLogoutUri { get; set; }

    public ClientDefinition ToDefinition() => new()
    {
        ClientId = string.IsNullOrWhiteSpace(ClientId) ? null : ClientId.Trim(),
        DisplayName = DisplayName,
        ClientType = ClientType,
        ConsentType = ConsentType,
        LogoUri = LogoUri,
        ClientUri = ClientUri,
        RedirectUris = Lines(RedirectUris),
        PostLogoutRedirectUris = Lines(PostLogoutRedirectUris),
        GrantTypes = new[]
        {
            (AuthorizationCode, IdentityServer.Clients.GrantTypes.AuthorizationCode),
            (RefreshToken, IdentityServer.Clients.GrantTypes.RefreshToken),
            (ClientCredentials, IdentityServer.Clients.GrantTypes.ClientCredentials),
        }.Where(g => g.Item1).Select(g => g.Item2).ToList(),
        Scopes = Words(Scopes),
        Resources = Lines(Resources),
        CanIntrospect = CanIntrospect,
        Resource = Resource,
        AccessTokenLifetime = Seconds(AccessTokenLifetime),
        IdentityTokenLifetime = Seconds(IdentityTokenLifetime),
        AuthorizationCodeLifetime = Seconds(AuthorizationCodeLifetime),
        RefreshTokenSlidingLifetime = Seconds(RefreshTokenSlidingLifetime),
        RefreshTokenAbsoluteLifetime = Seconds(RefreshTokenAbsoluteLifetime),
        BackchannelLogoutUri = BackchannelLogoutUri,
    };

    public static ClientForm From(ClientDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new ClientForm
        {
            ClientId = definition.ClientId,
            DisplayName = definition.DisplayName,
            ClientType = definition.ClientType,
            ConsentType = definition.ConsentType,
            LogoUri = definition.LogoUri,
            ClientUri = definition.ClientUri,
            RedirectUris = string.Join('\n', definition.RedirectUris),
            PostLogoutRedirectUris = string.Join('\n', definition.PostLogoutRedirectUris),
            AuthorizationCode = definition.GrantTypes.Contains(IdentityServer.Clients.GrantTypes.AuthorizationCode),
            RefreshToken = definition.GrantTypes.Contains(IdentityServer.Clients.GrantTypes.RefreshToken),
            ClientCredentials = definition.GrantTypes.Contains(IdentityServer.Clients.GrantTypes.ClientCredentials),
            Scopes = string.Join(' ', definition.Scopes),
            Resources = string.Join('\n', definition.Resources),
            CanIntrospect = definition.CanIntrospect,
            Resource = definition.Resource,
            AccessTokenLifetime = ToSeconds(definition.AccessTokenLifetime),
            IdentityTokenLifetime = ToSeconds(definition.IdentityTokenLifetime),
            AuthorizationCodeLifetime = ToSeconds(definition.AuthorizationCodeLifetime),
            RefreshTokenSlidingLifetime = ToSeconds(definition.RefreshTokenSlidingLifetime),
            RefreshTokenAbsoluteLifetime = ToSeconds(definition.RefreshTokenAbsoluteLifetime),
            BackchannelLogoutUri = definition.BackchannelLogoutUri,
        };
    }

    private static List<string> Lines(string? text) =>
        (text ?? "").Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static List<string> Words(string? text) =>
        (text ?? "").Split([' ', '\r', '\n', '\t', ','], StringSplitOptions.RemoveEmptyEntries).ToList();

    private static TimeSpan? Seconds(long? value) => value is { } s ? TimeSpan.FromSeconds(Math.Clamp(s, -1, 100L * 365 * 86400)) : null;

    private static long? ToSeconds(TimeSpan? value) => value is { } t ? (long)t.TotalSeconds : null;
}
