using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Pages.Account;

/// <summary>What the password pages (register, change, reset) say when Identity refuses a new password.</summary>
internal static class PasswordRuleText
{
    /// <summary>The text for a password rule Identity applied, or null when <paramref name="error"/> is not about the password's shape.</summary>
    public static string? For(IdentityError error, int minimumLength) => error.Code switch
    {
        nameof(IdentityErrorDescriber.PasswordTooShort) => $"A password has at least {minimumLength} characters.",
        _ when error.Code.StartsWith("Password", StringComparison.Ordinal) => error.Description,
        _ => null,
    };
}
