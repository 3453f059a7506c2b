using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Where a signed-in person lands when their account may not open a page (the admin pages, for a non-admin): a 403 that
/// says so, rather than the sign-in form, which would read as if they were not signed in at all.
/// </summary>
public sealed class AccessDeniedModel : PageModel
{
    public string UserName { get; private set; } = "";
    public string SignInUrl { get; private set; } = "/account/login";

    public void OnGet(string? returnUrl)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        UserName = User.Identity?.Name ?? "";
        if (returnUrl is not null && Url.IsLocalUrl(returnUrl))
        {
            SignInUrl = Url.Page("/Account/Login", new { returnUrl })!;
        }
    }
}
