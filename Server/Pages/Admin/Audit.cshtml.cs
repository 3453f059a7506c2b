using IdentityServer.Audit;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin;

/// <summary>The last 200 entries of the audit log, newest first.</summary>
public sealed class AuditModel(AuditLog audit) : PageModel
{
    public IReadOnlyList<AuditRecord> Entries { get; private set; } = [];

    public async Task OnGetAsync() => Entries = await audit.QueryAsync(new AuditQuery { Limit = 200 }, HttpContext.RequestAborted);
}
