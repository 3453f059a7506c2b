using IdentityServer.Admin;
using IdentityServer.Clients;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin;

/// <summary>The admin home: every registered client. Like every page in this folder, admins only (AdminPolicies.Pages).</summary>
public sealed class IndexModel(ClientAdminService clients) : PageModel
{
    public IReadOnlyList<ClientView> Clients { get; private set; } = [];

    public async Task OnGetAsync() => Clients = await clients.ListAsync(HttpContext.RequestAborted);
}
