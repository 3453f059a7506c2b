using IdentityServer.Accounts;
using IdentityServer.Clients;
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
