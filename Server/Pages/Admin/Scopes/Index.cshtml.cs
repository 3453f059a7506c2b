using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Clients;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Scopes;

/// <summary>The API scopes admins defined, and a form for a new one.</summary>
public sealed class IndexModel(ScopeAdminService scopes) : PageModel
{
    [BindProperty]
    public ScopeForm Form { get; set; } = new();

    public IReadOnlyList<ScopeDefinition> Scopes { get; private set; } = [];

    public ClientMetadataError? Error { get; private set; }

    public string? Message { get; private set; }

    public async Task OnGetAsync() => Scopes = await scopes.ListAsync(HttpContext.RequestAborted);

    public async Task<IActionResult> OnPostAsync()
    {
        var result = await scopes.CreateAsync(Form.ToDefinition(), AdminActor.From(User), HttpContext.RequestAborted);
        if (result.Outcome == AdminOutcome.Ok)
        {
            Message = $"The scope '{result.Value!.Name}' was created.";
            ModelState.Clear();
            Form = new ScopeForm();
        }
        else
        {
            Error = result.Error;
        }

        Scopes = await scopes.ListAsync(HttpContext.RequestAborted);
        return Page();
    }
}
