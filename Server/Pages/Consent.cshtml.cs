using IdentityServer.Accounts;
using IdentityServer.Clients;
using IdentityServer.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Pages;

/// <summary>
/// The consent page for third-party clients. It re-validates the authorization request it was given (never trusting
/// the query it arrived with), names the client and the scopes in plain words, and is protected against CSRF by the
/// antiforgery token Razor Pages checks on every POST.
/// </summary>
public sealed class ConsentModel(AuthorizationRequestValidator validator, ScopeCatalog scopeCatalog, ConsentService consent) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? ErrorMessage { get; private set; }
    public string ClientName { get; private set; } = "";
    public string? ClientUri { get; private set; }
    public IReadOnlyList<ScopeDescriptor> RequestedScopes { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ?? Page();

    public async Task<IActionResult> OnPostAsync(string? decision)
    {
        var problem = await LoadAsync();
        if (problem is not null || ErrorMessage is not null)
        {
            return problem ?? Page();
        }

        if (decision == "allow")
        {
            await consent.GrantAsync(_request!.Client.Id, _session!.Subject, _request.Scopes, HttpContext.RequestAborted);
            return LocalRedirect(ReturnUrl!);
        }

        return LocalRedirect(AuthorizationResponse.AppendQuery(ReturnUrl!,
            [new(AuthorizeEndpoint.ConsentDeniedParameter, AuthorizeEndpoint.ConsentDeniedValue)]));
    }

    private AuthorizationRequest? _request;
    private SignInSession? _session;

    private async Task<IActionResult?> LoadAsync()
    {
        var prefix = EndpointPaths.Authorize + "?";
        if (ReturnUrl is null || !ReturnUrl.StartsWith(prefix, StringComparison.Ordinal) || !Url.IsLocalUrl(ReturnUrl))
        {
            ErrorMessage = "The consent request is not valid.";
            return null;
        }

        var authentication = await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        _session = authentication.Succeeded ? SignInSession.From(authentication.Principal) : null;
        if (_session is null)
        {
            return LocalRedirect("/account/login?returnUrl=" + Uri.EscapeDataString(ReturnUrl));
        }

        var parameters = OAuthParameters.From(QueryHelpers.ParseQuery(ReturnUrl[prefix.Length..]));
        var validation = await validator.ValidateAsync(parameters, HttpContext.RequestAborted);
        if (validation.Request is null)
        {
            ErrorMessage = validation.PageError ?? validation.ClientError?.Description ?? "The consent request is not valid.";
            return null;
        }

        _request = validation.Request;
        ClientName = _request.Client.DisplayName;
        ClientUri = _request.Client.ClientUri;
        var catalog = await scopeCatalog.GetAllAsync(HttpContext.RequestAborted);
        RequestedScopes = _request.Scopes.Select(s => catalog[s]).ToList();
        return null;
    }
}
