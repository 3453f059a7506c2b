using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Clients;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>
/// Registers a client. A confidential client's secret is rendered in the answer to the POST and nowhere else: no
/// redirect, no TempData, so it never lands in a cookie, a URL or the database.
/// </summary>
public sealed class NewModel(ClientAdminService clients) : PageModel
{
    [BindProperty]
    public ClientForm Form { get; set; } = new();

    public ClientMetadataError? Error { get; private set; }

    public ClientWithSecret? Created { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var result = await clients.CreateAsync(Form.ToDefinition(), AdminActor.From(User), HttpContext.RequestAborted);
        if (result.Outcome != AdminOutcome.Ok)
        {
            Error = result.Error;
            return Page();
        }

        Created = result.Value;
        Response.Headers.CacheControl = "no-store";
        return Page();
    }
}
