using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Clients;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>One client: edit, enable/disable, rotate the secret (shown once), delete, and its grants (revoke).</summary>
public sealed class EditModel(ClientAdminService clients) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string ClientId { get; set; } = "";

    [BindProperty]
    public ClientForm Form { get; set; } = new();

    public ClientView? Client { get; private set; }

    public IReadOnlyList<GrantView> Grants { get; private set; } = [];

    public ClientMetadataError? Error { get; private set; }

    public string? Message { get; private set; }

    /// <summary>A destructive action posted without its confirmation box ticked: nothing was done.</summary>
    public string? Unconfirmed { get; private set; }

    public string? NewSecret { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await ShowAsync(resetForm: true);

    public async Task<IActionResult> OnPostSaveAsync()
    {
        var definition = Form.ToDefinition();
        definition.ClientId = null; // the route's client_id is the one changed; it cannot be renamed
        var result = await clients.UpdateAsync(ClientId, definition, Actor, HttpContext.RequestAborted);
        if (result.Outcome == AdminOutcome.Ok)
        {
            Message = "Saved.";
            NewSecret = result.Value!.ClientSecret;
        }
        else
        {
            Error = result.Error;
        }

        // On an error the form keeps what was typed, so it can be corrected.
        return await ShowAsync(resetForm: result.Outcome == AdminOutcome.Ok);
    }

    public Task<IActionResult> OnPostDisableAsync() => SetEnabledAsync(false);

    public Task<IActionResult> OnPostEnableAsync() => SetEnabledAsync(true);

    public async Task<IActionResult> OnPostRotateAsync(long? graceSeconds)
    {
        var grace = graceSeconds is { } seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, -1, 100L * 365 * 86400)) : (TimeSpan?)null;
        var result = await clients.RotateSecretAsync(ClientId, grace, Actor, HttpContext.RequestAborted);
        if (result.Outcome == AdminOutcome.Ok)
        {
            NewSecret = result.Value!.ClientSecret;
            Message = "The secret was rotated.";
        }
        else
        {
            Error = result.Error;
        }

        return await ShowAsync(resetForm: true);
    }

    public async Task<IActionResult> OnPostDeleteAsync(bool confirm)
    {
        if (!confirm)
        {
            Unconfirmed = "Tick the box to confirm the deletion.";
            return await ShowAsync(resetForm: true);
        }

        await clients.DeleteAsync(ClientId, Actor, HttpContext.RequestAborted);
        return Redirect("/admin/clients");
    }

    public async Task<IActionResult> OnPostRevokeGrantAsync(string grantId, bool confirm)
    {
        if (!confirm)
        {
            Unconfirmed = "Tick the box to confirm revoking the grant.";
            return await ShowAsync(resetForm: true);
        }

        Message = await clients.RevokeGrantAsync(ClientId, grantId, Actor, HttpContext.RequestAborted) ? "The grant was revoked." : "No such grant.";
        return await ShowAsync(resetForm: true);
    }

    public async Task<IActionResult> OnPostRevokeAllAsync(bool confirm)
    {
        if (!confirm)
        {
            Unconfirmed = "Tick the box to confirm revoking every grant.";
            return await ShowAsync(resetForm: true);
        }

        var revoked = await clients.RevokeGrantsAsync(ClientId, subject: null, Actor, HttpContext.RequestAborted);
        Message = $"{revoked ?? 0} grant(s) revoked.";
        return await ShowAsync(resetForm: true);
    }

    private AdminActor Actor => AdminActor.From(User);

    private async Task<IActionResult> SetEnabledAsync(bool enabled)
    {
        var result = await clients.SetEnabledAsync(ClientId, enabled, Actor, HttpContext.RequestAborted);
        Message = result.Outcome == AdminOutcome.Ok ? (enabled ? "The client is enabled." : "The client is disabled: it can no longer get or use tokens.") : null;
        Error = result.Error;
        return await ShowAsync(resetForm: true);
    }

    private async Task<IActionResult> ShowAsync(bool resetForm)
    {
        Client = await clients.GetAsync(ClientId, HttpContext.RequestAborted);
        if (Client is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }

        if (resetForm)
        {
            ModelState.Clear();
            Form = ClientForm.From(Client.Definition);
        }

        Grants = await clients.ListGrantsAsync(ClientId, HttpContext.RequestAborted) ?? [];
        Response.Headers.CacheControl = "no-store";
        return Page();
    }
}
