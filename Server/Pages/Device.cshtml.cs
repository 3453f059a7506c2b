using IdentityServer.Accounts;
using IdentityServer.Hosting;
using IdentityServer.Protocol.DeviceAuthorization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages;

/// <summary>
/// The device user-code page (RFC 8628 §3.3, the verification_uri): a signed-in person types the code their TV or
/// command line shows (or arrives with it from verification_uri_complete), sees which app asks for what and the code
/// again to compare with the device (§5.4: a phished code names an app the person did not start), then approves or
/// denies. Wrong codes are counted against the guessing limits; the POSTs carry Razor's antiforgery token.
/// </summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
public sealed class DeviceModel(DeviceVerification verification) : PageModel
{
    /// <summary>The typed code; from verification_uri_complete it arrives as ?user_code=.</summary>
    [BindProperty(SupportsGet = true, Name = "user_code")]
    public string? UserCode { get; set; }

    public DeviceRequest? Pending { get; private set; }
    public string? ErrorMessage { get; private set; }

    /// <summary>Set once the person has answered: "approved" or "denied".</summary>
    public string? Outcome { get; private set; }

    public async Task<IActionResult> OnGetAsync() => string.IsNullOrWhiteSpace(UserCode) ? Page() : await LookupAsync();

    public Task<IActionResult> OnPostAsync() => LookupAsync();

    public async Task<IActionResult> OnPostDecideAsync(string? decision)
    {
        if (await LookupAsync() is var page && Pending is null)
        {
            return page;
        }

        var session = SignInSession.From(User);
        if (session is null)
        {
            return Challenge(IdentityConstants.ApplicationScheme);
        }

        var answered = decision == "approve"
            ? await verification.ApproveAsync(Pending, session, HttpContext.RequestAborted)
            : await verification.DenyAsync(Pending, session, HttpContext.RequestAborted);
        if (!answered)
        {
            Pending = null;
            ErrorMessage = "This code was answered already or has expired. Start again on your device.";
            return Page();
        }

        Outcome = decision == "approve" ? "approved" : "denied";
        Pending = null;
        return Page();
    }

    private async Task<IActionResult> LookupAsync()
    {
        var lookup = await verification.LookupAsync(UserCode, RateLimiting.AddressOf(HttpContext), HttpContext.RequestAborted);
        Pending = lookup.Request;
        ErrorMessage = lookup.Error;
        if (lookup.RetryAfter is { } wait)
        {
            // RFC 6585 §4, as the other rate limits answer.
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Page();
    }
}
