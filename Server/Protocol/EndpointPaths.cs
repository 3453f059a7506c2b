namespace IdentityServer.Protocol;

/// <summary>Where each endpoint lives, relative to the issuer.</summary>
public static class EndpointPaths
{
    public const string Discovery = "/.well-known/openid-configuration";
    public const string Jwks = "/.well-known/jwks";
    public const string Authorize = "/connect/authorize";
    public const string Token = "/connect/token";
    public const string UserInfo = "/connect/userinfo";
    public const string Introspection = "/connect/introspect";
    public const string Revocation = "/connect/revoke";
    public const string EndSession = "/connect/endsession";
    /// <summary>RFC 9126 pushed authorization requests.</summary>
    public const string PushedAuthorization = "/connect/par";
    /// <summary>RFC 8628 §3.1 device authorization endpoint; people enter the user code at <see cref="DeviceVerification"/>.</summary>
    public const string DeviceAuthorization = "/connect/device";
    public const string DeviceVerification = "/device";
}
