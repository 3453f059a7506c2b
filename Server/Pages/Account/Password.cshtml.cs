using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Accounts.Email;
using IdentityServer.Accounts.Sessions;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Changing the password (the current one required), or, for an account that signs in only through providers, setting
/// one. Either way the account's OTHER sessions end at once (with the refresh tokens created in them) and this one stays;
/// a notice goes to the verified address. The POST checks a password, so it is under the sign-in rate limit.
/// </summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
[RateLimited(RateLimitScope.SignIn)]
public sealed class PasswordModel(UserManager<ApplicationUser> users, SignInManager<ApplicationUser> signIn, SessionService sessions, AccountEmails emails,
    AuditLog audit, ILogger<PasswordModel> logger) : PageModel
{
    [BindProperty]
    [StringLength(1024)]
    [Display(Name = "Current password")]
    public string? CurrentPassword { get; set; }

    [BindProperty]
    [Required(ErrorMessage = "Choose a new password.")]
    [StringLength(1024)]
    [Display(Name = "New password")]
    public string NewPassword { get; set; } = "";

    [BindProperty]
    [Compare(nameof(NewPassword), ErrorMessage = "The two passwords differ.")]
    [Display(Name = "New password again")]
    public string ConfirmPassword { get; set; } = "";

    public bool HasPassword { get; private set; }
    public bool Done { get; private set; }
    public IReadOnlyList<string> Errors { get; private set; } = [];
    public int MinimumPasswordLength => users.Options.Password.RequiredLength;

    public async Task<IActionResult> OnGetAsync(string? status)
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        HasPassword = await users.HasPasswordAsync(user);
        Done = status == "changed";
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await users.GetUserAsync(User);
        var session = SignInSession.From(User);
        if (user is null || session is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        HasPassword = await users.HasPasswordAsync(user);
        if (!ModelState.IsValid)
        {
            Errors = [.. ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage)];
            return Page();
        }

        IdentityResult result;
        if (HasPassword)
        {
            if (string.IsNullOrEmpty(CurrentPassword))
            {
                Errors = ["Enter your current password."];
                return Page();
            }

            result = await users.ChangePasswordAsync(user, CurrentPassword, NewPassword);
        }
        else
        {
            result = await users.AddPasswordAsync(user, NewPassword);
        }

        var action = HasPassword ? "password.changed" : "password.set";
        if (!result.Succeeded)
        {
            var wrongCurrent = result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.PasswordMismatch));
            await audit.RecordAccountAsync(user, action, AuditOutcomes.Failure,
                new { Reason = wrongCurrent ? "wrong_current_password" : "new_password_refused" });
            Errors = [.. result.Errors.Select(Describe).Distinct()];
            return Page();
        }

        var ended = await sessions.EndOtherSessionsAsync(user.Id, session.SessionId, HttpContext.RequestAborted);
        await ThisSession.KeepAsync(signIn, user, User);
        logger.LogInformation("User {UserId}: {Action}; {Sessions} other sessions ended", user.Id, action, ended);
        await audit.RecordAccountAsync(user, action, AuditOutcomes.Success, new { OtherSessionsEnded = ended });
        emails.SendPasswordChangedNotice(user, HasPassword ? "changed" : "set");
        return RedirectToPage(new { status = "changed" });
    }

    private string Describe(IdentityError error) => error.Code switch
    {
        nameof(IdentityErrorDescriber.PasswordMismatch) => "Your current password is not right.",
        nameof(IdentityErrorDescriber.UserAlreadyHasPassword) => "Your account already has a password: change it instead.",
        _ => PasswordRuleText.For(error, MinimumPasswordLength) ?? "The password could not be saved. Please try again.",
    };
}
