using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The second step of a sign-in (<see cref="TwoFactorSignIn"/>): a code of the authenticator app or a passkey (whichever
/// the account has), or on the sibling page a recovery code. Without a pending sign-in (none, or its five minutes are over) the person starts again.
/// Codes are checked under the sign-in rate limit and count toward the account's lockout.
/// </summary>
[RateLimited(RateLimitScope.SignIn)]
public class LoginTwoFactorModel(TwoFactorSignIn twoFactor) : PageModel
{
    protected const string GenericFailure = "That code did not work. Check it and try again, or wait a few minutes.";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    [Required]
    [StringLength(64)]
    public string Code { get; set; } = "";

    public string? ErrorMessage { get; private set; }

    protected virtual SecondFactor Factor => SecondFactor.AuthenticatorCode;

    /// <summary>The second factors the pending account has: the page offers those.</summary>
    public SecondFactors Factors { get; private set; } = new(AuthenticatorApp: true, Passkey: false);

    public async Task<IActionResult> OnGetAsync()
    {
        var pending = await twoFactor.PendingAsync(HttpContext);
        if (pending is null)
        {
            return StartAgain();
        }

        Factors = await twoFactor.FactorsOfAsync(pending.User);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var pending = await twoFactor.PendingAsync(HttpContext);
        if (pending is null)
        {
            return StartAgain();
        }

        if (!ModelState.IsValid || !await twoFactor.CompleteAsync(HttpContext, pending, Factor, Code, AuthorizeReturnUrl.ClientIdOf(ReturnUrl)))
        {
            Factors = await twoFactor.FactorsOfAsync(pending.User);
            ErrorMessage = GenericFailure;
            Code = "";
            return Page();
        }

        return Done(pending);
    }

    /// <summary>The options asking for one of the pending account's passkeys (passkeys.js posts the answer to <see cref="OnPostPasskeyAsync"/>).</summary>
    public async Task<IActionResult> OnPostPasskeyOptionsAsync()
    {
        Response.Headers.CacheControl = "no-store";
        return await twoFactor.PasskeyOptionsAsync(HttpContext) is { } json ? Content(json, "application/json") : new ConflictResult();
    }

    /// <summary>The second step with a passkey.</summary>
    public async Task<IActionResult> OnPostPasskeyAsync([FromForm] string? credential)
    {
        ModelState.Clear(); // the code form's field is not part of this form
        var pending = await twoFactor.PendingAsync(HttpContext);
        if (pending is null)
        {
            return StartAgain();
        }

        if (credential is { Length: > LoginModel.MaxCredentialLength }
            || !await twoFactor.CompleteWithPasskeyAsync(HttpContext, pending, credential, AuthorizeReturnUrl.ClientIdOf(ReturnUrl)))
        {
            Factors = await twoFactor.FactorsOfAsync(pending.User);
            ErrorMessage = "That passkey did not work. Try again, or use another way.";
            return Page();
        }

        return Done(pending);
    }

    private LocalRedirectResult Done(PendingTwoFactor pending)
    {
        if (pending.User.PasswordChangeRequiredAt is not null)
        {
            // Both factors given, and an admin forced a password reset: the new password comes before the session.
            return LocalRedirect(Url.Page("/Account/SetPassword", new { returnUrl = SafeReturnUrl })!);
        }

        return LocalRedirect(SafeReturnUrl);
    }

    public string SafeReturnUrl => ReturnUrl is not null && Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/";

    private RedirectResult StartAgain() => Redirect(Url.Page("/Account/Login", new { returnUrl = SafeReturnUrl })!);
}
