using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Hosting;
using IdentityServer.Protocol;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>
/// Registers a client, starting from a preset (<c>?preset=web|spa|native|m2m|resource</c>, see <see cref="ClientPresets"/>).
/// A confidential client's secret is rendered in the answer to the POST and nowhere else: no redirect, no TempData, so it
/// never lands in a cookie, a URL or the database. The answer also lists the endpoints the app configures next.
/// </summary>
public sealed class NewModel(ClientAdminService clients, ServerOptions server) : PageModel
{
    [BindProperty]
    public ClientForm Form { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? Preset { get; set; }

    public ClientPresets.Preset? ChosenPreset => ClientPresets.Find(Preset);

    public ClientMetadataError? Error { get; private set; }

    public ClientWithSecret? Created { get; private set; }

    /// <summary>What the new client's developer configures: label and absolute URL.</summary>
    public IReadOnlyList<(string Label, string Url)> Endpoints =>
    [
        ("Issuer", server.Issuer),
        ("Discovery document", DiscoveryDocument.EndpointUrl(server, EndpointPaths.Discovery)),
        ("Authorization endpoint", DiscoveryDocument.EndpointUrl(server, EndpointPaths.Authorize)),
        ("Token endpoint", DiscoveryDocument.EndpointUrl(server, EndpointPaths.Token)),
        ("Userinfo endpoint", DiscoveryDocument.EndpointUrl(server, EndpointPaths.UserInfo)),
        ("End session endpoint", DiscoveryDocument.EndpointUrl(server, EndpointPaths.EndSession)),
        ("Introspection endpoint", DiscoveryDocument.EndpointUrl(server, EndpointPaths.Introspection)),
    ];

    public void OnGet() => ChosenPreset?.Apply(Form);

    public async Task<IActionResult> OnPostAsync()
    {
        var result = await clients.CreateAsync(Form.ToDefinition(), AdminActor.From(User), HttpContext.RequestAborted);
        if (result.Outcome != AdminOutcome.Ok)
        {
            Error = result.Error;
            return Page();
        }

        Created = result.Value;
        Response.Headers.CacheControl = "no-store";
        return Page();
    }
}
