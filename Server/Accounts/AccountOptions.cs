namespace IdentityServer.Accounts;

/// <summary>Settings of local accounts, section <c>Accounts</c>.</summary>
public sealed class AccountOptions
{
    public const string Section = "Accounts";

    /// <summary>Whether people may create accounts: local ones at /account/register, and (unless
    /// <see cref="AllowProviderRegistration"/> says otherwise) through a provider's first sign-in.</summary>
    public bool AllowRegistration { get; set; } = true;

    /// <summary>
    /// Whether a first sign-in through a provider may create an account. Unset, it follows <see cref="AllowRegistration"/>:
    /// closing registration closes every way an account is created. Set it to true for provider sign-up alone (the
    /// local form stays closed), or to false for local registration alone. Signing in to, and linking, existing
    /// accounts is unaffected.
    /// </summary>
    public bool? AllowProviderRegistration { get; set; }

    public bool ProviderRegistrationAllowed => AllowProviderRegistration ?? AllowRegistration;

    /// <summary>
    /// How long a link sent by email works: password reset, email verification, email change (Identity's
    /// DataProtectionTokenProviderOptions.TokenLifespan). Each is also single-use where using it changes the account.
    /// </summary>
    public TimeSpan EmailLinkLifetime { get; set; } = TimeSpan.FromMinutes(30);
}
