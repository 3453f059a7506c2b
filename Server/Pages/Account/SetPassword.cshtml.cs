using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The new password a person must choose after an admin forced a password reset. Reached only from the sign-in form,
/// which checked the current password and left a <see cref="PasswordChangeTicket"/>; the ticket names the account and
/// its security stamp, so it dies with any later change to the account. Setting the password clears the requirement
/// and completes the sign-in. (Changing one's password at will is /account/password.)
/// </summary>
[RateLimited(RateLimitScope.SignIn)]
public sealed class SetPasswordModel(UserManager<ApplicationUser> users, SignInManager<ApplicationUser> signIn, TimeProvider time,
    ILogger<SetPasswordModel> logger, AuditLog audit) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    [Required(ErrorMessage = "Enter a new password.")]
    [StringLength(1024)]
    [Display(Name = "New password")]
    public string NewPassword { get; set; } = "";

    [BindProperty]
    [Required(ErrorMessage = "Enter the new password again.")]
    [Compare(nameof(NewPassword), ErrorMessage = "The two passwords differ.")]
    [Display(Name = "New password again")]
    public string ConfirmPassword { get; set; } = "";

    public bool HasTicket { get; private set; }

    public List<string> Errors { get; } = [];

    public int MinimumPasswordLength => users.Options.Password.RequiredLength;

    public async Task OnGetAsync() => HasTicket = await TicketUserAsync() is not null;

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await TicketUserAsync();
        HasTicket = user is not null;
        if (user is null)
        {
            return Page();
        }

        if (!ModelState.IsValid)
        {
            Errors.AddRange(ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage));
            return Page();
        }

        if (await users.CheckPasswordAsync(user, NewPassword))
        {
            Errors.Add("Choose a password different from the previous one.");
            return Page();
        }

        // Through a reset token rather than remove-then-add: the password validators run and the change is one update.
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var result = await users.ResetPasswordAsync(user, token, NewPassword);
        if (!result.Succeeded)
        {
            Errors.AddRange(result.Errors.Select(e => e.Description));
            return Page();
        }

        user.PasswordChangeRequiredAt = null;
        await users.UpdateAsync(user);
        PasswordChangeTicket.Clear(HttpContext);
        await signIn.SignInWithClaimsAsync(user, isPersistent: false, SignInSession.NewSessionClaims(time.GetUtcNow()));
        logger.LogInformation("User {UserId} set a new password and signed in", user.Id);
        await audit.RecordSignInAsync(user, "sign_in.password_reset", AuditOutcomes.Success, AuthorizeReturnUrl.ClientIdOf(ReturnUrl));
        return LocalRedirect(ReturnUrl is not null && Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
    }

    /// <summary>The account of a valid ticket whose stamp is still the account's and which still must change its password.</summary>
    private async Task<ApplicationUser?> TicketUserAsync()
    {
        if (PasswordChangeTicket.Read(HttpContext) is not { } ticket)
        {
            return null;
        }

        var user = await users.FindByIdAsync(ticket.UserId);
        return user is { PasswordChangeRequiredAt: not null } && user.SecurityStamp == ticket.SecurityStamp
            && !AccountStatus.IsDisabled(user, time.GetUtcNow()) ? user : null;
    }
}
