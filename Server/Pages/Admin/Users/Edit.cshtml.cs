using IdentityServer.Admin;
using IdentityServer.Audit;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Users;

/// <summary>The profile form: a changed email is unverified unless the admin ticks the box.</summary>
public sealed class ProfileForm
{
    public string? UserName { get; set; }
    public string? Name { get; set; }
    public string? Email { get; set; }
    public bool MarkEmailVerified { get; set; }
}

/// <summary>One person: profile, roles, custom claims, account actions, and what they hold (logins, sessions, apps, audit).</summary>
public sealed class EditModel(UserAdminService users, ClientAdminService clients) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    [BindProperty]
    public ProfileForm Profile { get; set; } = new();

    [BindProperty]
    public string? Roles { get; set; }

    public UserDetails? Details { get; private set; }

    public string? Message { get; private set; }

    public string? Error { get; private set; }

    public Task<IActionResult> OnGetAsync() => ShowAsync();

    public async Task<IActionResult> OnPostProfileAsync()
    {
        var change = new UserProfileChange(Profile.UserName ?? "", Profile.Name ?? "", Profile.Email ?? "", Profile.MarkEmailVerified ? true : null);
        return await AfterAsync(await users.UpdateProfileAsync(Id, change, Actor, HttpContext.RequestAborted), "The profile was saved.");
    }

    public async Task<IActionResult> OnPostRolesAsync()
    {
        var wanted = (Roles ?? "").Split([' ', ',', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (wanted.Length > 50)
        {
            Error = "At most 50 roles.";
            return await ShowAsync();
        }

        return await AfterAsync(await users.SetRolesAsync(Id, wanted, Actor, HttpContext.RequestAborted), "The roles were saved.");
    }

    public async Task<IActionResult> OnPostAddClaimAsync(string? claimType, string? claimValue) =>
        await AfterAsync(await users.AddClaimAsync(Id, claimType?.Trim(), claimValue, Actor, HttpContext.RequestAborted), $"The claim '{claimType}' was added.");

    public async Task<IActionResult> OnPostRemoveClaimAsync(string? claimType, string? claimValue) =>
        await AfterAsync(await users.RemoveClaimAsync(Id, claimType ?? "", claimValue, Actor, HttpContext.RequestAborted), $"The claim '{claimType}' was removed.");

    public async Task<IActionResult> OnPostDisableAsync() =>
        await AfterAsync(await users.DisableAsync(Id, Actor, HttpContext.RequestAborted), "The account is disabled: its sessions ended and its grants were revoked.");

    public async Task<IActionResult> OnPostEnableAsync() =>
        await AfterAsync(await users.EnableAsync(Id, Actor, HttpContext.RequestAborted), "The account is enabled.");

    public async Task<IActionResult> OnPostUnlockAsync() =>
        await AfterAsync(await users.UnlockAsync(Id, Actor, HttpContext.RequestAborted), "The account is unlocked.");

    public async Task<IActionResult> OnPostResetPasswordAsync() =>
        await AfterAsync(await users.RequirePasswordChangeAsync(Id, Actor, HttpContext.RequestAborted),
            "The person must choose a new password at the next sign-in; their sessions ended and their grants were revoked.");

    public async Task<IActionResult> OnPostSignOutAsync()
    {
        var ended = await users.SignOutEverywhereAsync(Id, Actor, HttpContext.RequestAborted);
        Message = ended is { } count ? $"Signed out everywhere: {count} session(s) ended, grants revoked." : null;
        return await ShowAsync();
    }

    public async Task<IActionResult> OnPostDeleteAsync(bool confirm)
    {
        if (!confirm)
        {
            Error = "Tick the box to confirm the deletion.";
            return await ShowAsync();
        }

        var result = await users.DeleteAsync(Id, Actor, HttpContext.RequestAborted);
        if (result.Outcome == AdminOutcome.Ok)
        {
            return Redirect("/admin/users");
        }

        return await AfterAsync(result, "");
    }

    /// <summary>Revokes the person's grants for one app (remembered consent included): confirmed like every destructive action.</summary>
    public async Task<IActionResult> OnPostRevokeAppAsync(string? clientId, bool confirm)
    {
        if (!confirm)
        {
            Error = "Tick the box to confirm revoking the app's grants.";
            return await ShowAsync();
        }

        if (await users.GetAsync(Id, HttpContext.RequestAborted) is null)
        {
            return await ShowAsync();
        }

        var revoked = string.IsNullOrEmpty(clientId) ? null : await clients.RevokeGrantsAsync(clientId, Id, Actor, HttpContext.RequestAborted);
        if (revoked is null)
        {
            Error = "No such client.";
        }
        else
        {
            Message = $"{revoked} grant(s) of {clientId} revoked.";
        }

        return await ShowAsync();
    }

    private AdminActor Actor => AdminActor.From(User);

    private async Task<IActionResult> AfterAsync<T>(AdminResult<T> result, string done)
    {
        if (result.Outcome == AdminOutcome.Ok)
        {
            Message = done;
        }
        else
        {
            // A missing user shows "No such user" (404) below; a missing claim is said here.
            Error = result.Error?.Description ?? "Not found.";
        }

        return await ShowAsync();
    }

    private async Task<IActionResult> ShowAsync()
    {
        Details = await users.GetAsync(Id, HttpContext.RequestAborted);
        if (Details is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }

        if (Error is null)
        {
            // Fresh from the store after a change; what was typed stays when it was refused.
            ModelState.Clear();
            Profile = new ProfileForm { UserName = Details.User.UserName, Name = Details.User.Name, Email = Details.User.Email };
            Roles = string.Join(' ', Details.User.Roles);
        }

        return Page();
    }
}
