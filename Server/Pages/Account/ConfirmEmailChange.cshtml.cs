using IdentityServer.Accounts.Email;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The link sent to a NEW address: its POST makes the change (Identity's ChangeEmailAsync checks the token, which names
/// the new address, and marks it verified; the new security stamp makes the link single-use). The old address, when it
/// was verified, is told. Opening the link only shows a button, so a mail scanner changes nothing.
/// </summary>
[RateLimited(RateLimitScope.SignIn)]
public sealed class ConfirmEmailChangeModel(UserManager<ApplicationUser> users, SignInManager<ApplicationUser> signIn, AccountEmails emails,
    AuditLog audit, TimeProvider time, ILogger<ConfirmEmailChangeModel> logger) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? UserId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Email { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Code { get; set; }

    public bool Done { get; private set; }
    public string? Error { get; private set; }

    public void OnGet()
    {
        if (string.IsNullOrEmpty(UserId) || string.IsNullOrEmpty(Code) || string.IsNullOrEmpty(Email))
        {
            Error = LinkFailed;
        }
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = string.IsNullOrEmpty(UserId) || string.IsNullOrEmpty(Code) || string.IsNullOrEmpty(Email) ? null : await users.FindByIdAsync(UserId);
        if (user is null)
        {
            Error = LinkFailed;
            return Page();
        }

        var (oldEmail, oldVerified) = (user.Email, user.EmailConfirmed);
        user.UpdatedAt = time.GetUtcNow().UtcDateTime;
        var result = await users.ChangeEmailAsync(user, Email!, Code!);
        if (!result.Succeeded)
        {
            await audit.RecordAccountAsync(user, "email.changed", AuditOutcomes.Failure, new { Reason = "invalid_or_expired_link" });
            Error = LinkFailed;
            return Page();
        }

        logger.LogInformation("User {UserId} changed their email address", user.Id);
        await audit.RecordAccountAsync(user, "email.changed", AuditOutcomes.Success, new { PreviousWasVerified = oldVerified });
        emails.SendEmailChangedNotice(user, oldEmail, oldVerified, user.Email!);
        if (users.GetUserId(User) == user.Id)
        {
            // The new security stamp would sign this browser out at the next check; it made the change, so it stays.
            await ThisSession.KeepAsync(signIn, user, User);
        }

        Done = true;
        return Page();
    }

    private const string LinkFailed = "This link does not work: it has expired, was already used, or is incomplete. Ask for a new one on your account's email page.";
}
