using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Accounts.Email;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Two-step verification with an authenticator app, on Identity's own authenticator token provider: the shared key
/// (and its otpauth:// link) is shown, a code from the app turns it on, and ten single-use recovery codes are shown once.
/// Turning it off needs a current code or the password. Turning it on or off changes the security stamp, so the
/// account's other sessions end; this one stays. Each change is audited and a notice goes to the verified address.
/// The POSTs check codes and passwords, so they are under the sign-in rate limit.
/// </summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
[RateLimited(RateLimitScope.SignIn)]
public sealed class SecurityModel(UserManager<ApplicationUser> users, SignInManager<ApplicationUser> signIn, IUserStore<ApplicationUser> store,
    AccountEmails emails, AuditLog audit, ServerOptions server) : PageModel
{
    public const int RecoveryCodeCount = 10;

    [BindProperty]
    [StringLength(64)]
    public string? Code { get; set; }

    [BindProperty]
    [StringLength(1024)]
    public string? Password { get; set; }

    public bool Enabled { get; private set; }
    public bool HasPassword { get; private set; }
    public string SharedKey { get; private set; } = "";
    public string AuthenticatorUri { get; private set; } = "";
    public int RecoveryCodesLeft { get; private set; }

    /// <summary>New recovery codes, shown on this one response only.</summary>
    public IReadOnlyList<string> RecoveryCodes { get; private set; } = [];

    public string? Message { get; private set; }
    public string? ErrorMessage { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? status, string? required)
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        Message = status switch
        {
            "disabled" => "Two-step verification is off.",
            _ => required == "admin" ? "The admin pages need two-step verification: turn it on here (or sign in again with your code)." : null,
        };
        await LoadAsync(user);
        return Page();
    }

    public async Task<IActionResult> OnPostEnableAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        if (await users.GetTwoFactorEnabledAsync(user))
        {
            return RedirectToPage();
        }

        if (!await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, TwoFactorSignIn.Normalize(Code, SecondFactor.AuthenticatorCode)))
        {
            await audit.RecordAccountAsync(user, "two_factor.enabled", AuditOutcomes.Failure, new { Reason = "wrong_code" });
            ErrorMessage = "That code did not work. Check the key in your app and the time on your phone, and try again.";
            await LoadAsync(user);
            return Page();
        }

        await users.SetTwoFactorEnabledAsync(user, true);
        RecoveryCodes = [.. await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount) ?? []];
        // The code just shown in this session is its second factor.
        await ThisSession.KeepAsync(signIn, user, User, secondFactorShown: true);
        await audit.RecordAccountAsync(user, "two_factor.enabled", AuditOutcomes.Success);
        await audit.RecordAccountAsync(user, "two_factor.recovery_codes_generated", AuditOutcomes.Success, new { Count = RecoveryCodes.Count });
        emails.SendTwoFactorNotice(user, "Two-step verification was turned on",
            $"Two-step verification was turned on for your account {user.UserName}: signing in now needs a code from an authenticator app. Other sign-ins of the account were signed out.");
        Message = "Two-step verification is on.";
        await LoadAsync(user);
        return Page();
    }

    public async Task<IActionResult> OnPostDisableAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        if (!await users.GetTwoFactorEnabledAsync(user))
        {
            return RedirectToPage();
        }

        var proof = !string.IsNullOrWhiteSpace(Code)
            ? await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, TwoFactorSignIn.Normalize(Code, SecondFactor.AuthenticatorCode))
            : !string.IsNullOrEmpty(Password) && await users.CheckPasswordAsync(user, Password);
        if (!proof)
        {
            await audit.RecordAccountAsync(user, "two_factor.disabled", AuditOutcomes.Failure, new { Reason = "wrong_code_or_password" });
            ErrorMessage = "That did not work. Enter a current code from your app, or your password.";
            await LoadAsync(user);
            return Page();
        }

        await users.SetTwoFactorEnabledAsync(user, false);
        // A new key: turning it on again means scanning a new one; the old recovery codes go with it.
        await users.ResetAuthenticatorKeyAsync(user);
        await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
        await ThisSession.KeepAsync(signIn, user, User);
        await audit.RecordAccountAsync(user, "two_factor.disabled", AuditOutcomes.Success);
        emails.SendTwoFactorNotice(user, "Two-step verification was turned off",
            $"Two-step verification was turned off for your account {user.UserName}: a password alone signs in again. Other sign-ins of the account were signed out.");
        return RedirectToPage(new { status = "disabled" });
    }

    public async Task<IActionResult> OnPostRecoveryCodesAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        if (!await users.GetTwoFactorEnabledAsync(user))
        {
            return RedirectToPage();
        }

        RecoveryCodes = [.. await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount) ?? []];
        await audit.RecordAccountAsync(user, "two_factor.recovery_codes_generated", AuditOutcomes.Success, new { Count = RecoveryCodes.Count });
        emails.SendTwoFactorNotice(user, "New recovery codes were made",
            $"New recovery codes were made for your account {user.UserName}; the earlier ones no longer work.");
        Message = "New recovery codes are ready; the earlier ones no longer work.";
        await LoadAsync(user);
        return Page();
    }

    private async Task LoadAsync(ApplicationUser user)
    {
        Enabled = await users.GetTwoFactorEnabledAsync(user);
        HasPassword = await users.HasPasswordAsync(user);
        Code = null;
        Password = null;
        ModelState.Clear();
        if (Enabled)
        {
            RecoveryCodesLeft = await users.CountRecoveryCodesAsync(user);
            return;
        }

        var key = await users.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            // A first key, stored without touching the security stamp (ResetAuthenticatorKeyAsync would end the
            // account's other sessions merely because this page was opened).
            await ((IUserAuthenticatorKeyStore<ApplicationUser>)store).SetAuthenticatorKeyAsync(user, users.GenerateNewAuthenticatorKey(), HttpContext.RequestAborted);
            await users.UpdateAsync(user);
            key = await users.GetAuthenticatorKeyAsync(user) ?? "";
        }

        SharedKey = AuthenticatorKey.Format(key);
        AuthenticatorUri = AuthenticatorKey.Uri(new Uri(server.Issuer).Host, user.UserName ?? user.Id, key);
    }
}
