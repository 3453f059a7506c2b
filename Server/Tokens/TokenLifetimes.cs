using IdentityServer.Clients;

namespace IdentityServer.Tokens;

/// <summary>The lifetimes in force for one client: its own settings where it has them, the server's otherwise.</summary>
public sealed record TokenLifetimes(
    TimeSpan AuthorizationCode,
    TimeSpan AccessToken,
    TimeSpan IdentityToken,
    TimeSpan RefreshTokenSliding,
    TimeSpan RefreshTokenAbsolute,
    TimeSpan RefreshTokenReuseLeeway)
{
    public static TokenLifetimes For(ClientDescriptor client, TokenOptions defaults)
    {
        var own = client.Settings;
        return new TokenLifetimes(
            own.AuthorizationCodeLifetime ?? defaults.AuthorizationCodeLifetime,
            own.AccessTokenLifetime ?? defaults.AccessTokenLifetime,
            own.IdentityTokenLifetime ?? defaults.IdentityTokenLifetime,
            own.RefreshTokenSlidingLifetime ?? defaults.RefreshTokenSlidingLifetime,
            own.RefreshTokenAbsoluteLifetime ?? defaults.RefreshTokenAbsoluteLifetime,
            defaults.RefreshTokenReuseLeeway);
    }
}
