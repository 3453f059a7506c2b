using System.Security.Claims;

namespace IdentityServer.Accounts;

/// <summary>
/// The facts about a signed-in person that the protocol needs, read from the session cookie's principal:
/// the stable subject (our user id), the session id (<c>sid</c>) and when they authenticated (<c>auth_time</c>).
/// </summary>
public sealed record SignInSession(string Subject, string SessionId, DateTimeOffset AuthTime)
{
    public const string SessionIdClaim = "sid";
    public const string AuthTimeClaim = "auth_time";

    public static SignInSession? From(ClaimsPrincipal? principal)
    {
        var subject = principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        var sessionId = principal?.FindFirstValue(SessionIdClaim);
        var authTime = principal?.FindFirstValue(AuthTimeClaim);
        if (string.IsNullOrEmpty(subject) || string.IsNullOrEmpty(sessionId) || !long.TryParse(authTime, out var seconds))
        {
            return null;
        }

        return new SignInSession(subject, sessionId, DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    /// <summary>The claims added to the session cookie at sign-in.</summary>
    public static Claim[] NewSessionClaims(DateTimeOffset now) =>
    [
        new(SessionIdClaim, Tokens.OpaqueToken.NewId()),
        new(AuthTimeClaim, now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}
