using IdentityServer.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Users;

/// <summary>The users, searched by user name or email, a page at a time in user-name order.</summary>
public sealed class IndexModel(UserAdminService users) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Cursor { get; set; }

    public IReadOnlyList<UserView> Users { get; private set; } = [];

    public string? NextCursor { get; private set; }

    public async Task OnGetAsync()
    {
        var query = Q is { Length: > 256 } ? Q[..256] : Q;
        var page = await users.SearchAsync(query, PageSize, Cursor, HttpContext.RequestAborted);
        Users = page.Users;
        NextCursor = page.NextCursor;
    }

    public string Status(UserView user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var parts = new List<string> { user.Disabled ? "disabled" : user.LockedOut ? "locked out" : "active" };
        if (user.PasswordChangeRequired)
        {
            parts.Add("must set a new password");
        }

        return string.Join(", ", parts);
    }
}
