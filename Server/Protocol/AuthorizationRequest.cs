using System.Collections.Frozen;
using IdentityServer.Clients;

namespace IdentityServer.Protocol;

/// <summary>An authorization request whose client and redirect URI are trusted, so errors may now go back to the client.</summary>
public sealed class AuthorizationRequest
{
    /// <summary>The prompt of a request without one: shared, so that such a request allocates no set.</summary>
    internal static readonly IReadOnlySet<string> NoPrompt = FrozenSet<string>.Empty;

    public required ClientDescriptor Client { get; init; }
    public required string RedirectUri { get; init; }
    /// <summary>Whether redirect_uri was sent; then the token request must repeat it (RFC 6749 §4.1.3).</summary>
    public required bool RedirectUriProvided { get; init; }
    public required string ResponseMode { get; init; }
    public string? State { get; init; }
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public IReadOnlyList<string> Resources { get; init; } = [];
    public string? Nonce { get; init; }
    public string? CodeChallenge { get; init; }
    public IReadOnlySet<string> Prompt { get; init; } = NoPrompt;
    public int? MaxAge { get; init; }
    public string? LoginHint { get; init; }

    /// <summary>
    /// OpenID Connect Core §3.1.2.1 acr_values: whether the first of the requested levels this server knows is the
    /// multi-factor one (the values are in order of preference; unknown values are ignored).
    /// </summary>
    public bool WantsMultiFactor => Parameters["acr_values"] is { } acrValues
        && acrValues.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(Accounts.AuthenticationMethods.Levels.Contains)
            == Accounts.AuthenticationMethods.MultiFactorLevel;
    public string? UiLocales { get; init; }
    public required OAuthParameters Parameters { get; init; }

    /// <summary>The pushed request (RFC 9126) this came from: the browser carries only its request_uri from step to step.</summary>
    public PushedAuthorization.PushedAuthorizationReference? Pushed { get; init; }

    public bool IsOpenId => Scopes.Contains(ScopeCatalog.OpenId);
}

public static class ResponseModes
{
    public const string Query = "query";
    public const string Fragment = "fragment";
    public const string FormPost = "form_post";
}

public static class Prompts
{
    public const string None = "none";
    public const string Login = "login";
    public const string Consent = "consent";
    public const string SelectAccount = "select_account";
}
