using IdentityServer.Clients;
using IdentityServer.Data;

namespace IdentityServer.Tokens;

/// <summary>
/// The lifetimes in force for one client (its own settings where it has them, the server's otherwise), and the one
/// place where the expiry of codes, refresh tokens and their families is computed from them.
/// </summary>
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

    /// <summary>When a family started now ends, however often its refresh tokens are used (the absolute cap).</summary>
    public DateTime FamilyEnd(DateTime now) => now + RefreshTokenAbsolute;

    /// <summary>A refresh token issued now: sliding expiry from this use, never past its family's end.</summary>
    public DateTime RefreshTokenExpiry(DateTime now, DateTime? familyEnd)
    {
        var sliding = now + RefreshTokenSliding;
        return familyEnd is { } end && end < sliding ? end : sliding;
    }

    /// <summary>
    /// A refresh token redeemed so recently that presenting it again is tolerated rather than treated as reuse
    /// (Tokens:RefreshTokenReuseLeeway; the default 0 never tolerates it).
    /// </summary>
    public bool WithinReuseLeeway(OAuthToken token, DateTime now) =>
        token.Status == Statuses.Redeemed && RefreshTokenReuseLeeway > TimeSpan.Zero && token.RedemptionDate + RefreshTokenReuseLeeway > now;
}
