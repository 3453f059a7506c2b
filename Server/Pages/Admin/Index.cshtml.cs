using IdentityServer.Admin;
using IdentityServer.Clients;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin;

/// <summary>
/// The admin home (also at /admin/clients): the registered clients, searched by client ID or name, a page at a time in
/// client ID order. Like every page in this folder, admins only (AdminPolicies.Pages).
/// </summary>
public sealed class IndexModel(ClientAdminService clients) : PageModel
{
    /// <summary>The page number travels as <c>p</c>: <c>page</c> is a route value of Razor Pages and would win.</summary>
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<ClientView> Clients { get; private set; } = [];

    public bool HasNextPage { get; private set; }

    public async Task OnGetAsync()
    {
        PageNumber = Math.Clamp(PageNumber, 1, 100_000);
        var query = Q is { Length: > 200 } ? Q[..200] : Q;
        (Clients, HasNextPage) = await clients.SearchAsync(query, (PageNumber - 1) * PageSize, PageSize, HttpContext.RequestAborted);
    }

    public string PageUrl(int page) => $"/admin/clients?q={Uri.EscapeDataString(Q ?? "")}&p={page}";
}
