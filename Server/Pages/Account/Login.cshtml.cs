using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Accounts.Email;
using IdentityServer.Accounts.Federation;
using IdentityServer.Accounts.Passkeys;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Sign-in: the local form, and a button per configured provider (a plain form POST, so it works without JavaScript).
/// Failures say the same thing whether or not the account exists or is locked out, and the return URL is followed only
/// when it stays on this site.
/// </summary>
[RateLimited(RateLimitScope.SignIn)]
public sealed class LoginModel(SignInManager<ApplicationUser> signIn, AccountLookup lookup, AccountOptions accounts, TimeProvider time, ILogger<LoginModel> logger,
    IPasswordHasher<ApplicationUser> hasher, AuditLog audit, ServerMetrics metrics, AccountEmails emails, TwoFactorSignIn twoFactor,
    PasskeySignIn passkeys) : PageModel
{
    private const string PasskeyFailure = "That passkey did not sign you in. Try again, or sign in with your password.";

    /// <summary>Far more than a WebAuthn answer needs (a few kilobytes): anything longer is refused unread.</summary>
    public const int MaxCredentialLength = 64 * 1024;

    private const string GenericFailure = "That username and password did not work. Check them and try again, or wait a few minutes.";

    /// <summary>A hash of a random password, verified when there is no real one to check (see <see cref="SpendPasswordCheck"/>).</summary>
    private static string? _dummyHash;

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    [Required]
    [StringLength(256)]
    public string Username { get; set; } = "";

    [BindProperty]
    [Required]
    [StringLength(1024)]
    public string Password { get; set; } = "";

    public string? ErrorMessage { get; private set; }

    /// <summary>The configured upstream providers, in registration order.</summary>
    public IReadOnlyList<AuthenticationScheme> Providers { get; private set; } = [];

    public bool AllowRegistration => accounts.AllowRegistration;

    /// <summary>"Forgot your password?" is offered only when the server can send the reset link.</summary>
    public bool PasswordResetAvailable => emails.Enabled;

    public async Task OnGetAsync([FromQuery(Name = "login_hint")] string? loginHint)
    {
        if (loginHint is { Length: <= 256 })
        {
            Username = loginHint;
        }

        await LoadProvidersAsync();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await LoadProvidersAsync();
        if (!ModelState.IsValid)
        {
            ErrorMessage = GenericFailure;
            return Page();
        }

        var user = await lookup.ForSignInAsync(Username, HttpContext.RequestAborted);
        if (user is null)
        {
            SpendPasswordCheck();
            logger.LogInformation("Sign-in failed: {Reason}", "unknown account");
            await RecordAsync(AuditOutcomes.Failure, null, "unknown_account");
            ErrorMessage = GenericFailure;
            return Page();
        }

        // Identity refuses a locked-out account before it looks at the password; the same work is done anyway.
        var lockedOut = await signIn.UserManager.IsLockedOutAsync(user);
        var result = await signIn.CheckPasswordSignInAsync(user, Password, lockoutOnFailure: true);
        if (!result.Succeeded)
        {
            if (lockedOut || result.IsNotAllowed)
            {
                SpendPasswordCheck();
            }

            var reason = lockedOut ? "locked_out" : result.IsNotAllowed ? "not_allowed" : result.IsLockedOut ? "wrong_password_now_locked_out" : "wrong_password";
            logger.LogInformation("Sign-in failed for user {UserId}: {Reason}", user.Id, reason);
            await RecordAsync(AuditOutcomes.Failure, user, reason);
            ErrorMessage = GenericFailure;
            return Page();
        }

        // The second factor comes first: with two-step verification on, the password alone may not even choose a new
        // password (an admin's forced reset then follows the second step: LoginTwoFactor).
        // The second factor comes before an admin's forced password reset: the password alone may not choose a new one.
        if (await twoFactor.IsRequiredAsync(user))
        {
            // The password was right; the session waits for the second factor (docs/accounts.md#two-step-verification).
            await twoFactor.BeginAsync(HttpContext, user, AuthenticationMethods.Password);
            logger.LogInformation("User {UserId} gave the right password; a second factor is next", user.Id);
            await audit.RecordSignInAsync(user, "sign_in.password", AuditOutcomes.Success, AuthorizeReturnUrl.ClientIdOf(ReturnUrl), new { SecondFactor = "required" });
            return LocalRedirect(Url.Page("/Account/LoginTwoFactor", new { returnUrl = SafeReturnUrl(ReturnUrl) })!);
        }

        if (user.PasswordChangeRequiredAt is not null)
        {
            // An admin forced a password reset: no session until a new password is chosen (SetPassword).
            logger.LogInformation("User {UserId} must set a new password before signing in", user.Id);
            PasswordChangeTicket.Issue(HttpContext, user);
            return LocalRedirect(Url.Page("/Account/SetPassword", new { returnUrl = SafeReturnUrl(ReturnUrl) })!);
        }

        await signIn.SignInWithClaimsAsync(user, isPersistent: false, SignInSession.NewSessionClaims(time.GetUtcNow(), AuthenticationMethods.Password));
        logger.LogInformation("User {UserId} signed in", user.Id);
        await RecordAsync(AuditOutcomes.Success, user, null);
        return LocalRedirect(SafeReturnUrl(ReturnUrl));
    }

    /// <summary>
    /// Verifies the typed password against a dummy hash: without it, "no such account" (or "locked out") would answer
    /// in a fraction of the time a password check takes, and the timing would tell which accounts exist.
    /// </summary>
    private void SpendPasswordCheck()
    {
        var nobody = new ApplicationUser();
        _dummyHash ??= hasher.HashPassword(nobody, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        hasher.VerifyHashedPassword(nobody, _dummyHash, Password);
    }

    /// <summary>The audit entry of a password sign-in: never the password, and for an unknown account not the typed name either (it may be a mistyped password).</summary>
    private Task RecordAsync(string outcome, ApplicationUser? user, string? reason)
    {
        metrics.SignIn("password", outcome == AuditOutcomes.Success, reason);
        return audit.RecordSignInAsync(user, "sign_in.password", outcome, AuthorizeReturnUrl.ClientIdOf(ReturnUrl), reason is null ? null : new { Reason = reason });
    }

    /// <summary>
    /// Sends the browser to the provider. The OAuth handler keeps the return URL in its protected state and, once the
    /// provider sent the person back, hands over to /account/external-callback.
    /// </summary>
    public async Task<IActionResult> OnPostExternalAsync(string? provider)
    {
        ModelState.Clear(); // the local form's fields are not part of this form
        await LoadProvidersAsync();
        if (provider is null || Providers.All(p => p.Name != provider))
        {
            ErrorMessage = "That sign-in option is not available.";
            return Page();
        }

        var returnUrl = SafeReturnUrl(ReturnUrl);
        var callback = Url.Page("/Account/ExternalCallback", new { returnUrl })!;
        var properties = signIn.ConfigureExternalAuthenticationProperties(provider, callback);
        properties.Items[ExternalFailure.BackItem] = Url.Page("/Account/Login", new { returnUrl });
        return Challenge(properties, provider);
    }

    /// <summary>The options for a passwordless sign-in with a passkey (passkeys.js asks for them, then posts the answer to <see cref="OnPostPasskeyAsync"/>).</summary>
    public async Task<IActionResult> OnPostPasskeyOptionsAsync()
    {
        Response.Headers.CacheControl = "no-store";
        return Content(await passkeys.RequestOptionsAsync(), "application/json");
    }

    /// <summary>Signs in with a passkey: the authenticator's answer to the challenge of <see cref="OnPostPasskeyOptionsAsync"/>.</summary>
    public async Task<IActionResult> OnPostPasskeyAsync([FromForm] string? credential)
    {
        ModelState.Clear(); // the password form's fields are not part of this form
        await LoadProvidersAsync();
        var outcome = credential is { Length: > MaxCredentialLength }
            ? PasskeySignInOutcome.Failed
            : await passkeys.SignInAsync(HttpContext, credential, AuthorizeReturnUrl.ClientIdOf(ReturnUrl));
        switch (outcome)
        {
            case PasskeySignInOutcome.SignedIn:
                return LocalRedirect(SafeReturnUrl(ReturnUrl));
            case PasskeySignInOutcome.PasswordChangeRequired:
                return LocalRedirect(Url.Page("/Account/SetPassword", new { returnUrl = SafeReturnUrl(ReturnUrl) })!);
            default:
                ErrorMessage = PasskeyFailure;
                return Page();
        }
    }

    private async Task LoadProvidersAsync() => Providers = [.. await signIn.GetExternalAuthenticationSchemesAsync()];

    /// <summary>Only local paths ("/x", not "//host" or "/\host") are followed; anything else goes home.</summary>
    private string SafeReturnUrl(string? returnUrl) => returnUrl is not null && Url.IsLocalUrl(returnUrl) ? returnUrl : "/";
}
