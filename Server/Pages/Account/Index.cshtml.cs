using IdentityServer.Accounts.Passkeys;
using IdentityServer.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>The account's home: profile, password, security, sign-in methods, devices and apps.</summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
public sealed class IndexModel(UserManager<ApplicationUser> users, PasskeyCredentials passkeys) : PageModel
{
    public string? UserName { get; private set; }
    public string? Email { get; private set; }
    public bool EmailConfirmed { get; private set; }
    public bool HasPassword { get; private set; }
    public bool TwoFactorEnabled { get; private set; }
    public IReadOnlyList<PasskeySummary> Passkeys { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        UserName = user.UserName;
        Email = user.Email;
        EmailConfirmed = user.EmailConfirmed;
        HasPassword = await users.HasPasswordAsync(user);
        TwoFactorEnabled = await users.GetTwoFactorEnabledAsync(user);
        Passkeys = await passkeys.ListAsync(user);
        return Page();
    }
}
