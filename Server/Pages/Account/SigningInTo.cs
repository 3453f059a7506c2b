using IdentityServer.Clients;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace IdentityServer.Pages.Account;

/// <summary>The client a sign-in page will return to, as the page may show it: its name, and its logo when that is https.</summary>
public sealed record SigningInClient(string DisplayName, string? LogoUri, string Action);

/// <summary>
/// "Sign in to continue to Example app" on the sign-in and registration pages of an authorization request. The client_id
/// comes from a URL anyone can write, so the client is looked up and shown only when it exists and is enabled: a made-up
/// id shows nothing, never its own text. Razor encodes the name; a logo is shown only from an https URL.
/// </summary>
public sealed class SigningInToViewComponent(ClientStore clients) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync(string? returnUrl, string action)
    {
        var client = await FindAsync(clients, returnUrl, HttpContext.RequestAborted);
        return client is null
            ? Content("")
            : View(new SigningInClient(client.DisplayName, BrandingOptions.IsHttpsUrl(client.LogoUri) ? client.LogoUri : null, action));
    }

    /// <summary>The enabled client of the authorization request <paramref name="returnUrl"/> returns to, or null.</summary>
    public static async Task<ClientDescriptor?> FindAsync(ClientStore clients, string? returnUrl, CancellationToken cancellationToken)
    {
        // ClientIdOf cuts a client_id at 100 characters (for the audit log): one that long may be cut, so name no client.
        if (AuthorizeReturnUrl.ClientIdOf(returnUrl) is not { Length: > 0 and < 100 } clientId)
        {
            return null;
        }

        var client = await clients.FindAsync(clientId, cancellationToken);
        return client is { Enabled: true } && !string.IsNullOrWhiteSpace(client.DisplayName) ? client : null;
    }
}
