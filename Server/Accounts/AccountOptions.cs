namespace IdentityServer.Accounts;

/// <summary>Settings of local accounts, section <c>Accounts</c>.</summary>
public sealed class AccountOptions
{
    public const string Section = "Accounts";

    /// <summary>Whether people may create local accounts at /account/register.</summary>
    public bool AllowRegistration { get; set; } = true;
}
