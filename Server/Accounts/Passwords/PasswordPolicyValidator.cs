using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Accounts.Passwords;

/// <summary>
/// What Identity's length rule cannot see (NIST SP 800-63B §5.1.1.2; OWASP ASVS 5.0 6.2.4, 6.2.11, 6.2.12): a password
/// on the list of common and breached passwords (<see cref="CommonPasswords"/>), and a password that is, or contains,
/// the account's own user name, email address or the address's local part ("context-specific words", ASVS 6.1.2).
/// Runs wherever Identity validates a new password: registration, the admin CLI, and any later password change.
/// Comparisons ignore case; names shorter than <see cref="MinimumContainedLength"/> are only refused as the whole password,
/// or every password holding a common two-letter name would be refused.
/// </summary>
public sealed class PasswordPolicyValidator : IPasswordValidator<ApplicationUser>
{
    public const string CommonCode = "PasswordCommon";
    public const string PersonalCode = "PasswordContainsUserName";
    public const int MinimumContainedLength = 3;

    public Task<IdentityResult> ValidateAsync(UserManager<ApplicationUser> manager, ApplicationUser user, string? password)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrEmpty(password))
        {
            return Task.FromResult(IdentityResult.Success); // Identity's own rules refuse an empty password
        }

        var errors = new List<IdentityError>();
        if (CommonPasswords.Contains(password))
        {
            errors.Add(new IdentityError
            {
                Code = CommonCode,
                Description = "This password is one of the most common ones, which attackers try first. Choose another: a few unrelated words make a good one.",
            });
        }

        if (ContextWords(user).Any(word => Uses(password, word)))
        {
            errors.Add(new IdentityError
            {
                Code = PersonalCode,
                Description = "A password must not contain your user name or email address.",
            });
        }

        return Task.FromResult(errors.Count == 0 ? IdentityResult.Success : IdentityResult.Failed([.. errors]));
    }

    /// <summary>The account's own words: its user name, its email address, and the address's local part.</summary>
    private static IEnumerable<string> ContextWords(ApplicationUser user)
    {
        if (!string.IsNullOrWhiteSpace(user.UserName))
        {
            yield return user.UserName.Trim();
        }

        if (!string.IsNullOrWhiteSpace(user.Email))
        {
            var email = user.Email.Trim();
            yield return email;
            var at = email.LastIndexOf('@');
            if (at > 0)
            {
                yield return email[..at];
            }
        }
    }

    private static bool Uses(string password, string word) =>
        password.Equals(word, StringComparison.OrdinalIgnoreCase)
        || (word.Length >= MinimumContainedLength && password.Contains(word, StringComparison.OrdinalIgnoreCase));
}
