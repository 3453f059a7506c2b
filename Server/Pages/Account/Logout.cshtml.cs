using IdentityServer.Protocol;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Sign-out confirmation: used when a logout request cannot be tied to the signed-in person (RP-Initiated Logout 1.0
/// §2), and for a plain local sign-out. The POST is antiforgery-protected, so no other site can sign a person out.
/// </summary>
public sealed class LogoutModel(EndSessionHandler handler) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? LogoutRequest { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool SignedOut { get; set; }

    public string? ErrorMessage { get; private set; }
    public string? ClientName { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var (request, error) = await ValidateAsync();
        ErrorMessage = error;
        ClientName = request?.Client?.DisplayName;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var (request, error) = await ValidateAsync();
        if (request is null)
        {
            ErrorMessage = error;
            return Page();
        }

        var result = await handler.SignOutAsync(HttpContext, request, await EndSessionHandler.CurrentSessionAsync(HttpContext));
        await result.ExecuteAsync(HttpContext);
        return new EmptyResult();
    }

    private async Task<(EndSessionRequest? Request, string? Error)> ValidateAsync()
    {
        if (SignedOut)
        {
            return (null, null);
        }

        var parameters = OAuthParameters.From(QueryHelpers.ParseQuery(LogoutRequest ?? ""));
        return await handler.ValidateAsync(parameters, HttpContext.RequestAborted);
    }
}
