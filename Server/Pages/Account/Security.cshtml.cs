using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Accounts.Email;
using IdentityServer.Accounts.Passkeys;
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
/// Passkeys are added, named and removed here too (<see cref="PasskeyCredentials"/>); an account with a passkey asks for
/// a second step after a password as well, and the first passkey of an account without recovery codes brings ten.
/// </summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
[RateLimited(RateLimitScope.SignIn)]
public sealed class SecurityModel(UserManager<ApplicationUser> users, SignInManager<ApplicationUser> signIn, IUserStore<ApplicationUser> store,
    AccountEmails emails, AuditLog audit, ServerOptions server, PasskeyCredentials passkeys) : PageModel
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
    public string AuthenticatorQrCode { get; private set; } = "";
    public int RecoveryCodesLeft { get; private set; }

    /// <summary>New recovery codes, shown on this one response only.</summary>
    public IReadOnlyList<string> RecoveryCodes { get; private set; } = [];

    [BindProperty]
    [StringLength(PasskeyCredentials.MaxNameLength * 2)]
    public string? PasskeyName { get; set; }

    [BindProperty]
    [StringLength(1400)]
    public string? PasskeyId { get; set; }

    public IReadOnlyList<PasskeySummary> Passkeys { get; private set; } = [];

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
            "passkey_renamed" => "The passkey was renamed.",
            "passkey_removed" => "The passkey was removed. Other sign-ins of your account were signed out.",
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
        if (!await passkeys.HasAnyAsync(user))
        {
            // Recovery codes stay while a passkey still asks for a second step.
            await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
        }

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

        if (!await users.GetTwoFactorEnabledAsync(user) && !await passkeys.HasAnyAsync(user))
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

    /// <summary>The options for <c>navigator.credentials.create()</c> (passkeys.js asks, then posts the answer to <see cref="OnPostAddPasskeyAsync"/>).</summary>
    public async Task<IActionResult> OnPostPasskeyOptionsAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Unauthorized();
        }

        Response.Headers.CacheControl = "no-store";
        return await passkeys.CreationOptionsAsync(user) is { } json
            ? Content(json, "application/json")
            : new ConflictObjectResult(new { error = $"An account can have at most {PasskeyCredentials.MaxPerAccount} passkeys." });
    }

    public async Task<IActionResult> OnPostAddPasskeyAsync([FromForm] string? credential)
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        var hadRecoveryCodes = await users.CountRecoveryCodesAsync(user) > 0;
        var outcome = credential is { Length: > LoginModel.MaxCredentialLength }
            ? PasskeyEnrolment.Refused
            : await passkeys.AddAsync(user, credential, PasskeyName);
        switch (outcome)
        {
            case PasskeyEnrolment.Added:
                Message = "The passkey was added: use it to sign in, or as the second step after your password.";
                if (!hadRecoveryCodes && !await users.GetTwoFactorEnabledAsync(user))
                {
                    // The account now asks for a second step: recovery codes for the day the passkey is lost.
                    RecoveryCodes = [.. await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount) ?? []];
                    await audit.RecordAccountAsync(user, "two_factor.recovery_codes_generated", AuditOutcomes.Success, new { Count = RecoveryCodes.Count });
                }

                break;
            case PasskeyEnrolment.Expired:
                ErrorMessage = "The passkey request expired. Try again.";
                break;
            case PasskeyEnrolment.TooMany:
                ErrorMessage = $"An account can have at most {PasskeyCredentials.MaxPerAccount} passkeys. Remove one first.";
                break;
            default:
                ErrorMessage = "That passkey could not be added. Try again, or with another authenticator.";
                break;
        }

        await LoadAsync(user);
        return Page();
    }

    public async Task<IActionResult> OnPostRenamePasskeyAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        if (!ModelState.IsValid || !await passkeys.RenameAsync(user, PasskeyId, PasskeyName))
        {
            ErrorMessage = "That passkey could not be renamed: give it a name.";
            await LoadAsync(user);
            return Page();
        }

        return RedirectToPage(new { status = "passkey_renamed" });
    }

    public async Task<IActionResult> OnPostRemovePasskeyAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        if (!ModelState.IsValid || !await passkeys.RemoveAsync(user, PasskeyId))
        {
            ErrorMessage = "That passkey is not one of yours.";
            await LoadAsync(user);
            return Page();
        }

        // The security stamp changed (the account's other sessions end); this browser's session stays.
        await ThisSession.KeepAsync(signIn, user, User);
        return RedirectToPage(new { status = "passkey_removed" });
    }

    private async Task LoadAsync(ApplicationUser user)
    {
        Passkeys = await passkeys.ListAsync(user);
        PasskeyName = null;
        PasskeyId = null;
        Enabled = await users.GetTwoFactorEnabledAsync(user);
        HasPassword = await users.HasPasswordAsync(user);
        Code = null;
        Password = null;
        ModelState.Clear();
        RecoveryCodesLeft = await users.CountRecoveryCodesAsync(user);
        if (Enabled)
        {
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
        AuthenticatorQrCode = AuthenticatorKey.QrCodeDataUri(AuthenticatorUri);
    }
}
