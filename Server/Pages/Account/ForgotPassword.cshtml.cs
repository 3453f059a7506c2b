using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Accounts.Email;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// "Forgot your password?": a reset link goes to the address when it is the VERIFIED address of an account that is not
/// disabled. The answer is the same page, word for word, whether or not such an account exists, and the work is the
/// same shape either way (one lookup, one audit entry; the message is queued, not sent during the request), so neither
/// the page nor its timing tells who has an account. Under the <see cref="RateLimitScope.AccountEmail"/> limit; without
/// an SMTP server the page says reset by email is not available.
/// </summary>
[RateLimited(RateLimitScope.AccountEmail)]
public sealed class ForgotPasswordModel(AccountLookup lookup, AccountEmails emails, AuditLog audit, TimeProvider time) : PageModel
{
    /// <summary>At most this many accounts sharing one verified address each get a link.</summary>
    private const int MaximumAccounts = 5;

    [BindProperty]
    [Required(ErrorMessage = "Enter your email address.")]
    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(256)]
    [Display(Name = "Email")]
    public string Email { get; set; } = "";

    public bool Available => emails.Enabled;
    public bool Sent { get; private set; }
    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!Available)
        {
            return Page();
        }

        if (!ModelState.IsValid)
        {
            Error = string.Join(" ", ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage));
            return Page();
        }

        var email = Email.Trim();
        var holders = await lookup.WithVerifiedEmailAsync(email, MaximumAccounts, HttpContext.RequestAborted);
        var accounts = holders.Where(u => AccountLookup.SameAddress(u.Email, email) && !AccountStatus.IsDisabled(u, time.GetUtcNow())).ToList();
        foreach (var user in accounts)
        {
            await emails.SendPasswordResetAsync(user);
            await audit.RecordAccountAsync(user, "password.reset_requested", AuditOutcomes.Success);
        }

        if (accounts.Count == 0)
        {
            await audit.RecordAccountAsync(null, "password.reset_requested", AuditOutcomes.Failure, new { Reason = "no_account_with_this_verified_address" });
        }

        Sent = true;
        return Page();
    }
}
