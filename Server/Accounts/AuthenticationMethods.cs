namespace IdentityServer.Accounts;

/// <summary>
/// How a person signed in: the <c>amr</c> values (RFC 8176) a session records, and the <c>acr</c> levels (OpenID Connect
/// Core §2) this server derives from them and advertises in discovery (<c>acr_values_supported</c>).
/// </summary>
public static class AuthenticationMethods
{
    /// <summary>RFC 8176 §2: password-based authentication.</summary>
    public const string Password = "pwd";

    /// <summary>RFC 8176 §2: a one-time password (an authenticator app's TOTP code, or a single-use recovery code).</summary>
    public const string OneTimePassword = "otp";

    /// <summary>RFC 8176 §2: more than one authentication factor.</summary>
    public const string MultiFactor = "mfa";

    /// <summary>acr "1": one factor (a password, or an upstream provider's sign-in alone).</summary>
    public const string SingleFactorLevel = "1";

    /// <summary>acr "2": two factors (a password or a provider, and a one-time code).</summary>
    public const string MultiFactorLevel = "2";

    /// <summary>The acr values this server can satisfy, weakest first.</summary>
    public static IReadOnlyList<string> Levels { get; } = [SingleFactorLevel, MultiFactorLevel];

    /// <summary>The acr level that <paramref name="methods"/> reach.</summary>
    public static string LevelOf(IEnumerable<string> methods) =>
        methods.Contains(MultiFactor) ? MultiFactorLevel : SingleFactorLevel;

    /// <summary>The amr value of a sign-in through an upstream provider: the provider's scheme name in lower case (not a registered RFC 8176 value).</summary>
    public static string ForProvider(string provider) => provider.ToLowerInvariant();

    /// <summary>What a second factor adds to the first one's methods.</summary>
    public static string[] WithSecondFactor(string first) => [first, OneTimePassword, MultiFactor];
}
