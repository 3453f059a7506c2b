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

    /// <summary>
    /// RFC 8176 §2: proof of possession of a hardware-secured key — a passkey's signature. (A passkey synced by its
    /// provider is arguably a software-secured key, "swk"; the assertion does not say which, so every passkey is "hwk".)
    /// </summary>
    public const string HardwareKey = "hwk";

    /// <summary>RFC 8176 §2: a user presence test — the authenticator's UP flag, which every passkey assertion here must carry.</summary>
    public const string UserPresence = "user";

    /// <summary>acr "1": one factor (a password, or an upstream provider's sign-in alone).</summary>
    public const string SingleFactorLevel = "1";

    /// <summary>acr "2": two factors (a password or a provider, and a one-time code or a passkey; or a passkey that verified the user).</summary>
    public const string MultiFactorLevel = "2";

    /// <summary>The acr values this server can satisfy, weakest first.</summary>
    public static IReadOnlyList<string> Levels { get; } = [SingleFactorLevel, MultiFactorLevel];

    /// <summary>The acr level that <paramref name="methods"/> reach.</summary>
    public static string LevelOf(IEnumerable<string> methods) =>
        methods.Contains(MultiFactor) ? MultiFactorLevel : SingleFactorLevel;

    /// <summary>The amr value of a sign-in through an upstream provider: the provider's scheme name in lower case (not a registered RFC 8176 value).</summary>
    public static string ForProvider(string provider) => provider.ToLowerInvariant();

    /// <summary>What a second factor (a one-time code) adds to the first one's methods.</summary>
    public static string[] WithSecondFactor(string first) => [first, OneTimePassword, MultiFactor];

    /// <summary>What a passkey given as the second step adds to the first factor's methods: two factors whatever its flags.</summary>
    public static string[] WithPasskey(string first) => [first, HardwareKey, UserPresence, MultiFactor];

    /// <summary>
    /// A passwordless sign-in with a passkey. The key is one factor (something held); only when the authenticator also
    /// verified the user (WebAuthn §6.1 flag UV: a PIN or a biometric, checked on the device) is it two, and "mfa".
    /// </summary>
    public static string[] ForPasskey(bool userVerified) =>
        userVerified ? [HardwareKey, UserPresence, MultiFactor] : [HardwareKey, UserPresence];
}
