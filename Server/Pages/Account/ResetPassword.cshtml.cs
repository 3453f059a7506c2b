using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Accounts.Email;
using IdentityServer.Accounts.Sessions;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The link of a password reset email: sets a new password with Identity's reset token (short-lived; the new security
/// stamp makes it single-use), then ends every session of the account and revokes its grants (whoever knew the old
/// password is out), clears a lockout from wrong guesses, and sends a "password changed" notice.
/// </summary>
[RateLimited(RateLimitScope.SignIn)]
public sealed class ResetPasswordModel(UserManager<ApplicationUser> users, SessionService sessions, AccountEmails emails, AuditLog audit,
    TimeProvider time, ILogger<ResetPasswordModel> logger) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? UserId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Code { get; set; }

    [BindProperty]
    [Required(ErrorMessage = "Choose a new password.")]
    [StringLength(1024)]
    [Display(Name = "New password")]
    public string NewPassword { get; set; } = "";

    [BindProperty]
    [Compare(nameof(NewPassword), ErrorMessage = "The two passwords differ.")]
    [Display(Name = "New password again")]
    public string ConfirmPassword { get; set; } = "";

    public bool Done { get; private set; }
    public bool LinkBroken { get; private set; }
    public IReadOnlyList<string> Errors { get; private set; } = [];
    public int MinimumPasswordLength => users.Options.Password.RequiredLength;

    public void OnGet()
    {
        ModelState.Clear();
        LinkBroken = string.IsNullOrEmpty(UserId) || string.IsNullOrEmpty(Code);
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = string.IsNullOrEmpty(UserId) || string.IsNullOrEmpty(Code) ? null : await users.FindByIdAsync(UserId);
        if (user is null || AccountStatus.IsDisabled(user, time.GetUtcNow()))
        {
            LinkBroken = true;
            return Page();
        }

        if (!ModelState.IsValid)
        {
            Errors = [.. ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage)];
            return Page();
        }

        var result = await users.ResetPasswordAsync(user, Code!, NewPassword);
        if (!result.Succeeded)
        {
            if (result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.InvalidToken)))
            {
                await audit.RecordAccountAsync(user, "password.reset", AuditOutcomes.Failure, new { Reason = "invalid_expired_or_used_link" });
                LinkBroken = true;
                return Page();
            }

            Errors = [.. result.Errors.Select(e => PasswordRuleText.For(e, MinimumPasswordLength) ?? "The password could not be saved. Please try again.").Distinct()];
            return Page();
        }

        // Whoever knew the old password is signed out everywhere; a lockout from wrong guesses ends with it.
        var ended = await sessions.SignOutEverywhereAsync(user.Id, HttpContext.RequestAborted);
        await users.ResetAccessFailedCountAsync(user);
        if (user.LockoutEnd is not null)
        {
            await users.SetLockoutEndDateAsync(user, null);
        }

        if (users.GetUserId(User) == user.Id)
        {
            await HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
        }

        logger.LogInformation("User {UserId} reset their password; {Sessions} sessions ended", user.Id, ended);
        await audit.RecordAccountAsync(user, "password.reset", AuditOutcomes.Success, new { SessionsEnded = ended });
        emails.SendPasswordChangedNotice(user, "reset through a link sent by email");
        Done = true;
        return Page();
    }
}
