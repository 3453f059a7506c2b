using IdentityServer.Accounts.Email;
using IdentityServer.Accounts.Federation;
using IdentityServer.Audit;
using IdentityServer.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// "Sign-in methods": the providers linked to the account, linking another one (through the provider, bound to this
/// user by the handler's state and Identity's XSRF key), and unlinking one, never the last way to sign in: an account
/// without a password keeps at least one provider.
/// </summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
public sealed class LoginsModel(UserManager<ApplicationUser> users, SignInManager<ApplicationUser> signIn, ILogger<LoginsModel> logger, AuditLog audit,
    AccountEmails emails) : PageModel
{
    public IReadOnlyList<UserLoginInfo> Logins { get; private set; } = [];
    public IReadOnlyList<AuthenticationScheme> LinkableProviders { get; private set; } = [];
    public bool HasPassword { get; private set; }

    /// <summary>Unlinking leaves another way in: a password, or another provider.</summary>
    public bool CanUnlink => HasPassword || Logins.Count > 1;

    public string? Message { get; private set; }
    public bool IsError { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? status)
    {
        (Message, IsError) = status switch
        {
            "linked" => ("The sign-in method is linked. You can use it from now on.", false),
            "unlinked" => ("The sign-in method is removed.", false),
            "taken" => ("That account is already linked to another user here, so it was not linked to yours.", true),
            "last" => ("This is your only way to sign in, so it cannot be removed.", true),
            "failed" => ("That did not work. Please try again.", true),
            _ => (null, false),
        };
        var user = await CurrentUserAsync();
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        await LoadAsync(user);
        return Page();
    }

    public async Task<IActionResult> OnPostLinkAsync(string? provider)
    {
        var user = await CurrentUserAsync();
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        var schemes = await signIn.GetExternalAuthenticationSchemesAsync();
        if (provider is null || schemes.All(s => s.Name != provider))
        {
            return RedirectToPage(new { status = "failed" });
        }

        // The user id goes into the protected state as Identity's XSRF key: the answer can only be linked to this user.
        var properties = signIn.ConfigureExternalAuthenticationProperties(provider, Url.Page("/Account/Logins", "LinkCallback"), user.Id);
        properties.Items[ExternalFailure.BackItem] = Url.Page("/Account/Logins");
        return Challenge(properties, provider);
    }

    public async Task<IActionResult> OnGetLinkCallbackAsync()
    {
        var user = await CurrentUserAsync();
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        var info = await signIn.GetExternalLoginInfoAsync(user.Id);
        await HttpContext.SignOutAsync(IdentityConstants.ExternalScheme);
        if (info is null)
        {
            return LocalRedirect(ExternalFailure.ErrorUrl(ExternalFailureReason.InvalidState, null, Url.Page("/Account/Logins")));
        }

        var owner = await users.FindByLoginAsync(info.LoginProvider, info.ProviderKey);
        if (owner is not null)
        {
            if (owner.Id != user.Id)
            {
                await RecordAsync("external_login.linked", AuditOutcomes.Failure, user, info.LoginProvider, "linked_to_another_user");
            }

            return RedirectToPage(new { status = owner.Id == user.Id ? "linked" : "taken" });
        }

        var result = await users.AddLoginAsync(user, info);
        logger.LogInformation("Linking {Provider} to user {UserId}: {Result}", info.LoginProvider, user.Id, result.Succeeded ? "linked" : "failed");
        await RecordAsync("external_login.linked", result.Succeeded ? AuditOutcomes.Success : AuditOutcomes.Failure, user, info.LoginProvider, null);
        if (result.Succeeded)
        {
            emails.SendSignInMethodLinkedNotice(user, info.ProviderDisplayName ?? info.LoginProvider);
        }

        return RedirectToPage(new { status = result.Succeeded ? "linked" : "failed" });
    }

    public async Task<IActionResult> OnPostUnlinkAsync(string? provider, string? providerKey)
    {
        var user = await CurrentUserAsync();
        if (user is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        await LoadAsync(user);
        if (provider is null || providerKey is null || !Logins.Any(l => l.LoginProvider == provider && l.ProviderKey == providerKey))
        {
            return RedirectToPage(new { status = "failed" });
        }

        if (!CanUnlink)
        {
            await RecordAsync("external_login.unlinked", AuditOutcomes.Failure, user, provider, "last_way_to_sign_in");
            return RedirectToPage(new { status = "last" });
        }

        // Removing a login changes the security stamp (and fails if the user changed meanwhile, so two concurrent
        // unlinks cannot remove the last two ways in).
        var result = await users.RemoveLoginAsync(user, provider, providerKey);
        if (!result.Succeeded)
        {
            return RedirectToPage(new { status = "failed" });
        }

        logger.LogInformation("Unlinked {Provider} from user {UserId}", provider, user.Id);
        await RecordAsync("external_login.unlinked", AuditOutcomes.Success, user, provider, null);
        await ThisSession.KeepAsync(signIn, user, User);
        return RedirectToPage(new { status = "unlinked" });
    }

    private async Task<ApplicationUser?> CurrentUserAsync() => await users.GetUserAsync(User);

    private Task RecordAsync(string action, string outcome, ApplicationUser user, string provider, string? reason) =>
        audit.RecordExternalLoginAsync(user, action, outcome, clientId: null, new { Provider = provider, Reason = reason });

    private async Task LoadAsync(ApplicationUser user)
    {
        Logins = [.. await users.GetLoginsAsync(user)];
        HasPassword = await users.HasPasswordAsync(user);
        var schemes = await signIn.GetExternalAuthenticationSchemesAsync();
        LinkableProviders = [.. schemes.Where(s => Logins.All(l => l.LoginProvider != s.Name))];
    }
}
