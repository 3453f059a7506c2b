using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace IdentityServer.Clients;

/// <summary>
/// The claim types a custom user claim (AspNetUserClaims) may have, and the ones it never may: the registered JWT claims
/// (RFC 7519 §4.1), those of OpenID Connect's ID token and of the protocol (OIDC Core §2, RFC 9068, RFC 8693, RFC 7800),
/// and the claims this server releases itself (profile, email, roles). A custom claim so can never overwrite or pass
/// for a protocol claim; scopes may only release the others.
/// </summary>
public static partial class UserClaimTypes
{
    /// <summary>The role claim released with the <c>roles</c> scope: a JSON array of the person's role names.</summary>
    public const string Roles = "roles";

    public static readonly FrozenSet<string> Reserved = new[]
    {
        // RFC 7519 §4.1, OIDC Core §2 and §3.1.3.6, RFC 9068 §2.2, RFC 8693 §4, RFC 7800 §3.
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash", "c_hash",
        "s_hash", "cnf", "client_id", "scope", "typ", "act", "may_act", "events", "grant_id", "token_type", "active",
        // Released by this server's built-in scopes.
        "name", "preferred_username", "picture", "updated_at", "email", "email_verified", Roles,
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Why <paramref name="type"/> cannot be a custom claim's type, or null.</summary>
    public static string? Problem(string? type)
    {
        if (type is null || !Format().IsMatch(type))
        {
            return "A claim type is 1 to 100 characters: a letter first, then letters, digits, '_', '-', '.' or ':'.";
        }

        return Reserved.Contains(type.ToLowerInvariant())
            ? $"'{type}' is a protocol claim or one the server releases itself; a custom claim cannot take its name."
            : null;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.:-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex Format();
}
