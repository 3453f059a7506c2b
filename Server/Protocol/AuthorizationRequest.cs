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
    public string? UiLocales { get; init; }
    public required OAuthParameters Parameters { get; init; }

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
