using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Clients;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Scopes;

/// <summary>One scope: change its display name, description and resources, or delete it when no client uses it.</summary>
public sealed class EditModel(ScopeAdminService scopes) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Name { get; set; } = "";

    [BindProperty]
    public ScopeForm Form { get; set; } = new();

    public bool Found { get; private set; }

    public ClientMetadataError? Error { get; private set; }

    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await ShowAsync(resetForm: true);

    public async Task<IActionResult> OnPostSaveAsync()
    {
        var definition = Form.ToDefinition();
        definition.Name = null; // the route's scope is the one changed
        var result = await scopes.UpdateAsync(Name, definition, AdminActor.From(User), HttpContext.RequestAborted);
        Message = result.Outcome == AdminOutcome.Ok ? "Saved." : null;
        Error = result.Error;
        return await ShowAsync(resetForm: result.Outcome == AdminOutcome.Ok);
    }

    public async Task<IActionResult> OnPostDeleteAsync(bool confirm)
    {
        if (!confirm)
        {
            Error = new ClientMetadataError(RegistrationErrors.InvalidRequest, "Tick the box to confirm the deletion.", "confirm");
            return await ShowAsync(resetForm: true);
        }

        var result = await scopes.DeleteAsync(Name, AdminActor.From(User), HttpContext.RequestAborted);
        if (result.Outcome is AdminOutcome.Ok or AdminOutcome.NotFound)
        {
            return Redirect("/admin/scopes");
        }

        Error = result.Error;
        return await ShowAsync(resetForm: true);
    }

    private async Task<IActionResult> ShowAsync(bool resetForm)
    {
        var scope = await scopes.GetAsync(Name, HttpContext.RequestAborted);
        Found = scope is not null;
        if (scope is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        else if (resetForm)
        {
            ModelState.Clear();
            Form = ScopeForm.From(scope);
        }

        return Page();
    }
}
