using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Local sign-in. Failures say the same thing whether or not the account exists or is locked out, and the return URL
/// is followed only when it stays on this site.
/// </summary>
public sealed class LoginModel(SignInManager<ApplicationUser> signIn, UserManager<ApplicationUser> users, TimeProvider time, ILogger<LoginModel> logger) : PageModel
{
    private const string GenericFailure = "That username and password did not work. Check them and try again, or wait a few minutes.";

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

    public void OnGet([FromQuery(Name = "login_hint")] string? loginHint)
    {
        if (loginHint is { Length: <= 256 })
        {
            Username = loginHint;
        }
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            ErrorMessage = GenericFailure;
            return Page();
        }

        var user = await users.FindByNameAsync(Username) ?? await users.FindByEmailAsync(Username);
        if (user is null)
        {
            logger.LogInformation("Sign-in failed: {Reason}", "unknown account");
            ErrorMessage = GenericFailure;
            return Page();
        }

        var result = await signIn.CheckPasswordSignInAsync(user, Password, lockoutOnFailure: true);
        if (!result.Succeeded)
        {
            logger.LogInformation("Sign-in failed for user {UserId}: {Reason}", user.Id, result.IsLockedOut ? "locked out" : "wrong password");
            ErrorMessage = GenericFailure;
            return Page();
        }

        await signIn.SignInWithClaimsAsync(user, isPersistent: false, SignInSession.NewSessionClaims(time.GetUtcNow()));
        logger.LogInformation("User {UserId} signed in", user.Id);
        return LocalRedirect(SafeReturnUrl(ReturnUrl));
    }

    /// <summary>Only local paths ("/x", not "//host" or "/\host") are followed; anything else goes home.</summary>
    private string SafeReturnUrl(string? returnUrl) => returnUrl is not null && Url.IsLocalUrl(returnUrl) ? returnUrl : "/";
}
