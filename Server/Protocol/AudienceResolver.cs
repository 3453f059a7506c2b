using IdentityServer.Clients;
using IdentityServer.Hosting;

namespace IdentityServer.Protocol;

/// <summary>
/// Decides an access token's audiences. The granted scopes name resource servers (Scopes.Resources); the RFC 8707
/// <c>resource</c> parameter picks among them. A token that carries openid is also for this server's userinfo endpoint,
/// and a token with no resource at all is for this server alone.
/// </summary>
public sealed class AudienceResolver(ScopeCatalog scopeCatalog, ServerOptions protocol)
{
    public async Task<(IReadOnlyList<string> Audiences, string? Error)> ResolveAsync(
        ClientDescriptor client, IReadOnlyCollection<string> scopes, IReadOnlyList<string> requestedResources, CancellationToken cancellationToken)
    {
        var catalog = await scopeCatalog.GetAllAsync(cancellationToken);
        var available = scopes
            .SelectMany(s => catalog.TryGetValue(s, out var d) ? d.Resources : [])
            .Where(r => client.Resources.Count == 0 || client.Resources.Contains(r))
            .Distinct(StringComparer.Ordinal)
            .ToList();

        foreach (var resource in requestedResources)
        {
            // RFC 8707 §2: an absolute URI without a fragment, and one this client may obtain through its scopes.
            if (!Uri.TryCreate(resource, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.Fragment))
            {
                return ([], "resource must be an absolute URI without a fragment.");
            }

            if (!available.Contains(resource, StringComparer.Ordinal) && resource != protocol.Issuer)
            {
                return ([], "The requested resource is unknown or not available to this client with these scopes.");
            }
        }

        var audiences = requestedResources.Count > 0 ? requestedResources.Distinct(StringComparer.Ordinal).ToList() : available;
        if (scopes.Contains(ScopeCatalog.OpenId) || audiences.Count == 0)
        {
            if (!audiences.Contains(protocol.Issuer))
            {
                audiences = [.. audiences, protocol.Issuer];
            }
        }

        return (audiences, null);
    }

    /// <summary>
    /// The audiences of a token issued from a stored grant (code redemption, refresh). RFC 8707 §2.2: the token request
    /// may narrow the resources of the authorization request, never add to them; without a resource parameter the
    /// grant's own resources stand.
    /// </summary>
    public Task<(IReadOnlyList<string> Audiences, string? Error)> ResolveWithinGrantAsync(
        ClientDescriptor client, IReadOnlyCollection<string> scopes, IReadOnlyList<string> requestedResources, string[] grantedResources,
        CancellationToken cancellationToken)
    {
        if (requestedResources.Count > 0 && grantedResources.Length > 0 && requestedResources.Any(r => !grantedResources.Contains(r)))
        {
            return Task.FromResult<(IReadOnlyList<string>, string?)>(([], "The resource was not part of the authorization request."));
        }

        return ResolveAsync(client, scopes, requestedResources.Count > 0 ? requestedResources : grantedResources, cancellationToken);
    }
}
