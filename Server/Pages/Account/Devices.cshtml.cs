using IdentityServer.Accounts;
using IdentityServer.Accounts.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// "Devices and apps": the person's sessions and the apps holding grants, each revocable, and "sign out everywhere",
/// which ends every session and revokes every grant (access tokens then introspect inactive at once).
/// </summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
public sealed class DevicesModel(SessionService sessions) : PageModel
{
    public IReadOnlyList<SessionView> Sessions { get; private set; } = [];
    public IReadOnlyList<AppGrantView> Apps { get; private set; } = [];
    public string? CurrentSessionId { get; private set; }
    public string? Message { get; private set; }

    /// <summary>An address as people read it: an IPv4 client seen through a dual-stack socket (::ffff:192.0.2.1) as IPv4.</summary>
    public static string DisplayAddress(string? address) =>
        address is null ? "unknown address"
        : System.Net.IPAddress.TryParse(address, out var ip) && ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4().ToString()
        : address;

    /// <summary>A UTC time in a time element: the text says UTC, and /local-time.js rewrites it in the reader's own time zone.</summary>
    public static Microsoft.AspNetCore.Html.IHtmlContent Time(DateTime utc)
    {
        var value = DateTime.SpecifyKind(utc, DateTimeKind.Utc);
        return new Microsoft.AspNetCore.Html.HtmlString(
            $"<time datetime=\"{value:yyyy-MM-ddTHH:mm:ssZ}\" data-local-time>{value:yyyy-MM-dd HH:mm} UTC</time>");
    }

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostEndSessionAsync(string sessionId)
    {
        var session = Current;
        // Only one of this person's own sessions ends; any other id changes nothing (SessionService).
        var ended = await sessions.EndSessionAsync(session.Subject, sessionId, HttpContext.RequestAborted);
        if (sessionId == session.SessionId)
        {
            await HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
            return Redirect("/account/logout?signedOut=true");
        }

        Message = ended ? "That device is signed out." : "That session had already ended.";
        await LoadAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAppAsync(string applicationId)
    {
        await sessions.RevokeAppAsync(Current.Subject, applicationId, HttpContext.RequestAborted);
        Message = "The app no longer has access.";
        await LoadAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostEverywhereAsync()
    {
        await sessions.SignOutEverywhereAsync(Current.Subject, HttpContext.RequestAborted);
        await HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
        return Redirect("/account/logout?signedOut=true");
    }

    private SignInSession Current => SignInSession.From(User) ?? throw new InvalidOperationException("The session has no sid.");

    private async Task LoadAsync()
    {
        var session = Current;
        CurrentSessionId = session.SessionId;
        Sessions = await sessions.ListSessionsAsync(session.Subject, HttpContext.RequestAborted);
        Apps = await sessions.ListAppsAsync(session.Subject, HttpContext.RequestAborted);
    }
}
