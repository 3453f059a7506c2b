using IdentityServer.Protocol;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Pages.Account;

/// <summary>What a sign-in page can tell from the authorization request it will return to.</summary>
internal static class AuthorizeReturnUrl
{
    /// <summary>The client_id of an authorization request a page will return to (unverified: context for the audit log only).</summary>
    public static string? ClientIdOf(string? returnUrl)
    {
        const string prefix = EndpointPaths.Authorize + "?";
        if (returnUrl is null || !returnUrl.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var query = QueryHelpers.ParseQuery(returnUrl[prefix.Length..]);
        return query.TryGetValue("client_id", out var clientId) && clientId.Count == 1 ? Truncate(clientId[0], 100) : null;
    }

    private static string? Truncate(string? value, int length) => value is { } v && v.Length > length ? v[..length] : value;
}
