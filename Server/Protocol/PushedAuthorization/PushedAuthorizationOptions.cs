namespace IdentityServer.Protocol.PushedAuthorization;

/// <summary>Pushed authorization requests, RFC 9126 (section <c>PushedAuthorization</c>).</summary>
public sealed class PushedAuthorizationOptions
{
    public const string Section = "PushedAuthorization";

    /// <summary>
    /// Whether /authorize accepts only pushed requests, from every client (RFC 9126 §5
    /// require_pushed_authorization_requests). Off: each client's own setting decides.
    /// </summary>
    public bool RequireForAllClients { get; set; }

    /// <summary>How long a request_uri may wait for the browser to bring it to /authorize (RFC 9126 §2.2 expires_in).</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a request, once a browser brought it to /authorize, stays usable by that browser alone while the person
    /// signs in and consents (a human pace, so longer than <see cref="Lifetime"/>); it ends earlier when a code is issued.
    /// </summary>
    public TimeSpan InteractionLifetime { get; set; } = TimeSpan.FromMinutes(30);
}
