using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The link of a verification email. Opening it shows a button; the address is verified by the POST, so a mail
/// scanner that fetches links verifies nothing. Works in any browser, signed in or not: the link itself is the proof.
/// </summary>
[RateLimited(RateLimitScope.SignIn)]
public sealed class ConfirmEmailModel(UserManager<ApplicationUser> users, AuditLog audit) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? UserId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Code { get; set; }

    public bool Done { get; private set; }
    public string? Error { get; private set; }

    public void OnGet()
    {
        if (string.IsNullOrEmpty(UserId) || string.IsNullOrEmpty(Code))
        {
            Error = LinkFailed;
        }
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = string.IsNullOrEmpty(UserId) || string.IsNullOrEmpty(Code) ? null : await users.FindByIdAsync(UserId);
        var result = user is null ? null : await users.ConfirmEmailAsync(user, Code!);
        if (result is not { Succeeded: true })
        {
            if (user is not null)
            {
                await audit.RecordAccountAsync(user, "email.verified", AuditOutcomes.Failure, new { Reason = "invalid_or_expired_link" });
            }

            Error = LinkFailed;
            return Page();
        }

        await audit.RecordAccountAsync(user, "email.verified", AuditOutcomes.Success);
        Done = true;
        return Page();
    }

    private const string LinkFailed = "This link does not work: it has expired, or is incomplete. Sign in and ask for a new one on your account's email page.";
}
