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
/// Changing the email address: a confirmation link goes to the NEW address, and the address changes only when it is
/// opened (/account/confirm-email-change); the old address is told then. An unverified address can be verified again
/// from here. Both send email, so the page is under the <see cref="RateLimitScope.AccountEmail"/> limit, and off
/// (saying so) without an SMTP server.
/// </summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
[RateLimited(RateLimitScope.AccountEmail)]
public sealed class EmailModel(UserManager<ApplicationUser> users, AccountEmails emails, AuditLog audit, ILogger<EmailModel> logger) : PageModel
{
    [BindProperty]
    [Required(ErrorMessage = "Enter the new email address.")]
    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(256)]
    [Display(Name = "New email address")]
    public string NewEmail { get; set; } = "";

    public string? Email { get; private set; }
    public bool EmailConfirmed { get; private set; }
    public bool EmailEnabled => emails.Enabled;
    public string? Message { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        Load(user);
        return Page();
    }

    public async Task<IActionResult> OnPostChangeAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        Load(user);
        if (!EmailEnabled)
        {
            return Page();
        }

        if (!ModelState.IsValid || !Hosting.Email.EmailOptions.IsPlainAddress(NewEmail.Trim()))
        {
            Error = ModelState.IsValid ? "Enter a valid email address." : string.Join(" ", ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage));
            return Page();
        }

        var newEmail = NewEmail.Trim();
        if (user.EmailConfirmed && AccountLookup.SameAddress(newEmail, user.Email))
        {
            Error = "That is already your email address.";
            return Page();
        }

        await emails.SendEmailChangeConfirmationAsync(user, newEmail);
        logger.LogInformation("User {UserId} asked to change their email address", user.Id);
        await audit.RecordAccountAsync(user, "email.change_requested", AuditOutcomes.Success);
        Message = $"We sent a link to {newEmail}. Open it to confirm the new address; until then, your address stays {user.Email ?? "unset"}.";
        NewEmail = "";
        ModelState.Clear();
        return Page();
    }

    public async Task<IActionResult> OnPostResendAsync()
    {
        ModelState.Clear(); // the change form's field is not part of this form
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        Load(user);
        if (EmailEnabled && !user.EmailConfirmed && user.Email is not null)
        {
            await emails.SendVerificationAsync(user);
            await audit.RecordAccountAsync(user, "email.verification_sent", AuditOutcomes.Success);
            Message = $"We sent a new verification link to {user.Email}.";
        }

        return Page();
    }

    private void Load(ApplicationUser user)
    {
        Email = user.Email;
        EmailConfirmed = user.EmailConfirmed;
    }
}
