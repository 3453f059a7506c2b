using System.Security.Claims;

namespace IdentityServer.Accounts;

/// <summary>
/// The facts about a signed-in person that the protocol needs, read from the session cookie's principal:
/// the stable subject (our user id), the session id (<c>sid</c>), when they authenticated (<c>auth_time</c>) and how
/// (<c>amr</c>, RFC 8176: see <see cref="AuthenticationMethods"/>).
/// </summary>
public sealed record SignInSession(string Subject, string SessionId, DateTimeOffset AuthTime)
{
    public const string SessionIdClaim = "sid";
    public const string AuthTimeClaim = "auth_time";

    /// <summary>One claim per authentication method of the sign-in (RFC 8176 values).</summary>
    public const string MethodClaim = "amr";

    /// <summary>The authentication methods of the sign-in, in the order they were used.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [AuthenticationMethods.Password];

    /// <summary>The acr level the sign-in reached.</summary>
    public string Level => AuthenticationMethods.LevelOf(Methods);

    public bool IsMultiFactor => Methods.Contains(AuthenticationMethods.MultiFactor);

    public static SignInSession? From(ClaimsPrincipal? principal)
    {
        var subject = principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        var sessionId = principal?.FindFirstValue(SessionIdClaim);
        var authTime = principal?.FindFirstValue(AuthTimeClaim);
        if (string.IsNullOrEmpty(subject) || string.IsNullOrEmpty(sessionId) || !long.TryParse(authTime, out var seconds))
        {
            return null;
        }

        return new SignInSession(subject, sessionId, DateTimeOffset.FromUnixTimeSeconds(seconds)) { Methods = MethodsOf(principal!) };
    }

    /// <summary>
    /// The session's amr claims. A session from before they were recorded has none: it was a provider's sign-in when it
    /// names one (<see cref="ClaimTypes.AuthenticationMethod"/>), a password otherwise.
    /// </summary>
    public static string[] MethodsOf(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        string[] methods = [.. principal.FindAll(MethodClaim).Select(c => c.Value)];
        if (methods.Length > 0)
        {
            return methods;
        }

        return principal.FindFirstValue(ClaimTypes.AuthenticationMethod) is { Length: > 0 } provider
            ? [AuthenticationMethods.ForProvider(provider)]
            : [AuthenticationMethods.Password];
    }

    /// <summary>The claims added to the session cookie at sign-in: a new sid, auth_time, and how the person signed in.</summary>
    public static Claim[] NewSessionClaims(DateTimeOffset now, params string[] methods) =>
    [
        new(SessionIdClaim, Tokens.OpaqueToken.NewId()),
        new(AuthTimeClaim, now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        .. (methods.Length == 0 ? [AuthenticationMethods.Password] : methods).Select(m => new Claim(MethodClaim, m)),
    ];
}
