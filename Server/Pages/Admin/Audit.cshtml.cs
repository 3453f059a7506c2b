using System.Globalization;
using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin;

/// <summary>
/// The audit log, newest first, a page at a time, filtered by kind, outcome, user (a user name or id: what they did
/// and what was done to their account), client (its events and the admin changes made to it) and time (UTC). Each entry's details are shown as readable name/value pairs, not raw JSON.
/// </summary>
public sealed class AuditModel(AuditLog audit, UserManager<ApplicationUser> users) : PageModel
{
    public const int PageSize = 50;

    public static IReadOnlyList<(string Value, string Label)> Kinds { get; } =
    [
        (AuditKinds.Admin, "Admin changes"),
        (AuditKinds.SignIn, "Sign-in"),
        (AuditKinds.Account, "Account changes"),
        (AuditKinds.ExternalLogin, "Provider logins"),
        (AuditKinds.Consent, "Consent"),
        (AuditKinds.Token, "Tokens"),
        (AuditKinds.Session, "Sessions"),
    ];

    [BindProperty(SupportsGet = true)]
    public string? Kind { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Outcome { get; set; }

    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Client { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTime? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTime? To { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<AuditRecord> Entries { get; private set; } = [];

    public bool HasNextPage { get; private set; }

    public async Task OnGetAsync()
    {
        PageNumber = Math.Clamp(PageNumber, 1, 100_000);
        var userId = Trimmed(UserFilter);
        if (userId is not null && await users.FindByNameAsync(userId) is { } user)
        {
            userId = user.Id;
        }

        var page = await audit.QueryAsync(new AuditQuery
        {
            Kind = Kinds.Any(k => k.Value == Kind) ? Kind : null,
            Outcome = Outcome is AuditOutcomes.Success or AuditOutcomes.Failure ? Outcome : null,
            UserId = userId,
            ClientId = Trimmed(Client),
            From = From is { } from ? DateTime.SpecifyKind(from, DateTimeKind.Utc) : null,
            To = To is { } to ? DateTime.SpecifyKind(to, DateTimeKind.Utc) : null,
            Offset = (PageNumber - 1) * PageSize,
            Limit = PageSize + 1,
        }, HttpContext.RequestAborted);
        Entries = page.Take(PageSize).ToList();
        HasNextPage = page.Count > PageSize;
    }

    /// <summary>The same filters on another page.</summary>
    public string PageUrl(int page)
    {
        var query = new Dictionary<string, string?>
        {
            ["kind"] = Kind,
            ["outcome"] = Outcome,
            ["user"] = UserFilter,
            ["client"] = Client,
            ["from"] = From?.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture),
            ["to"] = To?.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture),
            ["p"] = page.ToString(CultureInfo.InvariantCulture),
        };
        return "/admin/audit?" + string.Join("&", query.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}"));
    }

    /// <summary>An entry's details (a JSON object) as name/value pairs; text that is not an object comes back as one pair.</summary>
    public static IReadOnlyList<(string Name, string Value)> Details(string? details)
    {
        if (string.IsNullOrWhiteSpace(details))
        {
            return [];
        }

        try
        {
            using var json = JsonDocument.Parse(details);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return [("details", details)];
            }

            return json.RootElement.EnumerateObject().Select(p => (p.Name.Replace('_', ' '), Text(p.Value))).ToList();
        }
        catch (JsonException)
        {
            return [("details", details)];
        }
    }

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(Text)),
        JsonValueKind.Null => "none",
        _ => value.GetRawText(),
    };

    private static string? Trimmed(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim()[..Math.Min(text.Trim().Length, 256)];
}
