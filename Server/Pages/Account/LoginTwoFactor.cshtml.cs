using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The second step of a sign-in (<see cref="TwoFactorSignIn"/>): a code of the authenticator app, or on the sibling
/// page a recovery code. Without a pending sign-in (none, or its five minutes are over) the person starts again.
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

    public async Task<IActionResult> OnGetAsync() =>
        await twoFactor.PendingAsync(HttpContext) is null ? StartAgain() : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        var pending = await twoFactor.PendingAsync(HttpContext);
        if (pending is null)
        {
            return StartAgain();
        }

        if (!ModelState.IsValid || !await twoFactor.CompleteAsync(HttpContext, pending, Factor, Code, AuthorizeReturnUrl.ClientIdOf(ReturnUrl)))
        {
            ErrorMessage = GenericFailure;
            Code = "";
            return Page();
        }

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
