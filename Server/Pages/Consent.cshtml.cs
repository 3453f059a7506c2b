using IdentityServer.Accounts;
using IdentityServer.Clients;
using IdentityServer.Hosting;
using IdentityServer.Protocol.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages;

/// <summary>
/// The consent page for third-party clients. It reads the authorization request it was given through the protocol's
/// one door (<see cref="PendingAuthorizationReader"/>, which re-validates it, never trusting the query it arrived with),
/// names the client and the scopes in plain words, and is protected against CSRF by the antiforgery token Razor Pages
/// checks on every POST.
/// </summary>
public sealed class ConsentModel(PendingAuthorizationReader pendingAuthorizations, PendingAuthorizationApproval approval, ConsentService consent) : PageModel
{
    private PendingAuthorization _pending = null!;

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? ErrorMessage => _pending.Error;
    public string ClientName => _pending.Request?.Client.DisplayName ?? "";
    public string? ClientUri => _pending.Request?.Client.ClientUri;

    /// <summary>The client's home page as a link: only an https URL.</summary>
    public string? ClientLink => BrandingOptions.IsHttpsUrl(ClientUri) ? ClientUri : null;

    /// <summary>The client's logo: only from an https URL (an http one would be fetched in the clear, and is not shown).</summary>
    public string? ClientLogoUri => _pending.Request?.Client.LogoUri is { } logo && BrandingOptions.IsHttpsUrl(logo) ? logo : null;

    /// <summary>
    /// Where the person is sent back to: the host of the request's redirect URI (already one of the client's registered
    /// ones), or for a native app's private-use scheme (com.example.app:/callback) the scheme.
    /// </summary>
    public string? RedirectHost => _pending.Request?.RedirectUri is { } redirect && Uri.TryCreate(redirect, UriKind.Absolute, out var uri)
        ? (uri.IsDefaultPort || uri.Port < 0 ? uri.Host : uri.Authority) is { Length: > 0 } host ? host : uri.Scheme + ":"
        : null;
    public IReadOnlyList<ScopeDescriptor> RequestedScopes => _pending.Scopes;

    public async Task<IActionResult> OnGetAsync() => await ReadAsync() ?? Page();

    public async Task<IActionResult> OnPostAsync(string? decision)
    {
        if (await ReadAsync() is { } signIn)
        {
            return signIn;
        }

        if (!_pending.IsReady)
        {
            return Page();
        }

        if (decision == "allow")
        {
            // Remembered for later requests of clients that authenticate; this request is answered here and now.
            await consent.GrantAsync(_pending.Request.Client.Id, _pending.Session.Subject, _pending.Request.Scopes, HttpContext.RequestAborted);
            var answer = await approval.ApproveAsync(_pending, HttpContext.RequestAborted);
            await answer.ExecuteAsync(HttpContext);
            return new EmptyResult();
        }

        return LocalRedirect(_pending.DeniedUrl);
    }

    /// <summary>Reads the pending request once per request; a person without a session signs in first.</summary>
    private async Task<IActionResult?> ReadAsync()
    {
        _pending = await pendingAuthorizations.ReadAsync(HttpContext, ReturnUrl);
        return _pending.SignInUrl is { } signIn ? LocalRedirect(signIn) : null;
    }
}
