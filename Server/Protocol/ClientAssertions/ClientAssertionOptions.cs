namespace IdentityServer.Protocol.ClientAssertions;

/// <summary>How client assertions (private_key_jwt, RFC 7523 §2.2 and OpenID Connect Core §9) are judged (section <c>ClientAssertions</c>).</summary>
public sealed class ClientAssertionOptions
{
    public const string Section = "ClientAssertions";

    /// <summary>
    /// Off (the default): the assertion's single audience may be the issuer identifier, the token endpoint URL (OpenID
    /// Connect Core §9, RFC 7523 §3) or the URL of the endpoint it is sent to (RFC 9126 §2), for the clients written to
    /// those texts. On: the issuer identifier only, as FAPI 2.0 Security Profile §5.3.2.1 and draft-ietf-oauth-rfc7523bis
    /// ask. Either way an audience with several values is refused, so an assertion made for another server that merely
    /// also names this one is never accepted (the audience-injection attack rfc7523bis addresses).
    /// </summary>
    public bool IssuerAudienceOnly { get; set; }

    /// <summary>The longest an assertion may be valid (exp minus iat, or exp minus now): bounds how long its jti is kept.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Tolerance for the client's clock on exp, iat and nbf.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long keys fetched from a client's jwks_uri are used before they are fetched again.</summary>
    public TimeSpan JwksCacheDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The shortest time between two fetches of one jwks_uri caused by an unknown kid (a client that rotated its key), so
    /// that assertions naming made-up key ids cannot turn the server into a fetch loop.
    /// </summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}
