using IdentityServer.Admin;
using IdentityServer.Audit;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin;

/// <summary>The last 200 admin changes.</summary>
public sealed class AuditModel(AdminAuditLog audit) : PageModel
{
    public IReadOnlyList<AuditEntryView> Entries { get; private set; } = [];

    public async Task OnGetAsync() => Entries = await audit.ListAsync(200, target: null, HttpContext.RequestAborted);
}
