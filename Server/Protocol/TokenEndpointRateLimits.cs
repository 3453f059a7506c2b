using IdentityServer.Hosting;

namespace IdentityServer.Protocol;

/// <summary>The token endpoints' part in the rate limits (token, introspection, revocation): their form and their error shape.</summary>
internal sealed class TokenEndpointRateLimits : ITokenEndpointRateLimits
{
    // The OAuth error shape clients already parse (RFC 6749 §5.2); temporarily_unavailable as in §4.1.2.1.
    public IResult TooManyRequests(int retryAfterSeconds) =>
        new OAuthError(OAuthErrors.TemporarilyUnavailable, $"Too many requests; retry after {retryAfterSeconds} seconds.",
            StatusCodes.Status429TooManyRequests).ToJson();
}
