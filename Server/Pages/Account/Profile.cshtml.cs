using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts.Email;
using IdentityServer.Audit;
using IdentityServer.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>The person's profile: their name (released in the <c>name</c> claim), and their email address, changed on /account/email.</summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
public sealed class ProfileModel(UserManager<ApplicationUser> users, AccountEmails emails, TimeProvider time, AuditLog audit) : PageModel
{
    [BindProperty]
    [StringLength(256, ErrorMessage = "A name has at most 256 characters.")]
    [Display(Name = "Name")]
    public string? Name { get; set; }

    public string? UserName { get; private set; }
    public string? Email { get; private set; }
    public bool EmailConfirmed { get; private set; }
    public bool EmailEnabled => emails.Enabled;
    public string? Message { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? status)
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        Message = status == "saved" ? "Your profile is saved." : null;
        Load(user);
        Name = user.Name;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        if (!ModelState.IsValid)
        {
            Error = string.Join(" ", ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage));
            Load(user);
            return Page();
        }

        var name = string.IsNullOrWhiteSpace(Name) ? null : Name.Trim();
        if (name != user.Name)
        {
            user.Name = name;
            user.UpdatedAt = time.GetUtcNow().UtcDateTime;
            var result = await users.UpdateAsync(user);
            if (!result.Succeeded)
            {
                Error = "Your profile could not be saved. Please try again.";
                Load(user);
                return Page();
            }

            await audit.RecordAccountAsync(user, "profile.updated", AuditOutcomes.Success, new { Field = "name" });
        }

        return RedirectToPage(new { status = "saved" });
    }

    private void Load(ApplicationUser user)
    {
        UserName = user.UserName;
        Email = user.Email;
        EmailConfirmed = user.EmailConfirmed;
    }
}
