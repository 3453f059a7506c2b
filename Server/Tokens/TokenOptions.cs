namespace IdentityServer.Tokens;

/// <summary>Token lifetimes, the server's defaults (docs/configuration.md). Each can be overridden per client through its settings.</summary>
public sealed class TokenOptions
{
    public const string Section = "Tokens";

    public TimeSpan AuthorizationCodeLifetime { get; set; } = TimeSpan.FromSeconds(60);
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan IdentityTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>A refresh token expires this long after its last use.</summary>
    public TimeSpan RefreshTokenSlidingLifetime { get; set; } = TimeSpan.FromDays(14);
    /// <summary>A refresh-token family ends this long after the sign-in that started it, however often it is used.</summary>
    public TimeSpan RefreshTokenAbsoluteLifetime { get; set; } = TimeSpan.FromDays(90);
    /// <summary>How long a just-rotated refresh token may be presented again without being treated as reuse. 0 = strict.</summary>
    public TimeSpan RefreshTokenReuseLeeway { get; set; } = TimeSpan.Zero;
}
