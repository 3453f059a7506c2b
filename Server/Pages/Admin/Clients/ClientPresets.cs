using IdentityServer.Clients;
using IdentityServer.Data;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>
/// Starting points for the "Register a client" form, chosen with <c>?preset=</c>: each fills the form's defaults for a
/// kind of application. Only the form's first values; the admin may change anything, and the validator's rules apply.
/// </summary>
public static class ClientPresets
{
    public sealed record Preset(string Key, string Name, string Description, Action<ClientForm> Apply);

    private const string SignInScopes = "openid profile email offline_access";

    public static IReadOnlyList<Preset> All { get; } =
    [
        new("web", "Web app", "A server-side app: confidential (has a secret), authorization code with PKCE, refresh tokens.", form =>
        {
            form.ClientType = ClientTypes.Confidential;
            form.GrantTypes = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken];
            form.Scopes = SignInScopes;
        }),
        new("spa", "Single-page app", "A browser app: public (no secret), authorization code with PKCE, refresh tokens.", form =>
        {
            form.ClientType = ClientTypes.Public;
            form.GrantTypes = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken];
            form.Scopes = SignInScopes;
        }),
        new("native", "Native app", "A desktop or mobile app: public, loopback or private-use scheme redirects (RFC 8252).", form =>
        {
            form.ClientType = ClientTypes.Public;
            form.GrantTypes = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken];
            form.Scopes = SignInScopes;
            form.RedirectUris = "http://127.0.0.1/callback";
        }),
        new("m2m", "Machine to machine", "A service calling APIs on its own behalf: confidential, client credentials only, nobody signs in.", form =>
        {
            form.ClientType = ClientTypes.Confidential;
            form.ConsentType = ConsentTypes.Implicit;
            form.GrantTypes = [GrantTypes.ClientCredentials];
            form.Scopes = "";
        }),
        new("resource", "Resource server", "An API that checks access tokens: confidential, may introspect; client credentials (a client needs a grant) let it call other APIs too.", form =>
        {
            form.ClientType = ClientTypes.Confidential;
            form.ConsentType = ConsentTypes.Implicit;
            form.GrantTypes = [GrantTypes.ClientCredentials];
            form.Scopes = "";
            form.CanIntrospect = true;
        }),
    ];

    /// <summary>The preset of that key (case-insensitive), or null.</summary>
    public static Preset? Find(string? key) => All.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase));
}
