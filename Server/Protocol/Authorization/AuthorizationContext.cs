using IdentityServer.Clients;

namespace IdentityServer.Protocol.Authorization;

/// <summary>
/// What the validation steps of one authorization request share: the parameters as sent, and what earlier steps have
/// established (the client, the redirect URI, PKCE, prompt, max_age, scopes, resources). Each step reads what the
/// steps before it set and adds its own; see <see cref="AuthorizationRequestValidator"/> for their order.
/// </summary>
internal sealed class AuthorizationContext(OAuthParameters parameters)
{
    private ClientDescriptor? _client;

    public OAuthParameters Parameters { get; } = parameters;

    /// <summary>The registered, enabled client; set by the client step, read by every step after it.</summary>
    public ClientDescriptor Client
    {
        get => _client ?? throw new InvalidOperationException("The client is read before the step that finds it.");
        set => _client = value;
    }

    public string? RedirectUri { get; set; }
    public bool RedirectUriProvided { get; set; }
    public string? CodeChallenge { get; set; }
    public IReadOnlySet<string> Prompt { get; set; } = AuthorizationRequest.NoPrompt;
    public int? MaxAge { get; set; }
    public IReadOnlyList<string> Scopes { get; set; } = [];
    public IReadOnlyList<string> Resources { get; set; } = [];
    /// <summary>The pushed request (RFC 9126) these parameters came from, or null for a request sent through the browser.</summary>
    public PushedAuthorization.PushedAuthorizationReference? Pushed { get; init; }

    /// <summary>The response mode of the answer: the requested one when supported, else query (so that even the error about an unsupported response_mode can be delivered).</summary>
    public string ResponseMode
    {
        get
        {
            var requested = Parameters["response_mode"];
            return requested is ResponseModes.FormPost or ResponseModes.Fragment ? requested : ResponseModes.Query;
        }
    }

    /// <summary>Where an error goes once the client and redirect URI are trusted: only what the error response needs.</summary>
    public AuthorizationRequest ToErrorTarget() => new()
    {
        Client = Client,
        RedirectUri = RedirectUri!,
        RedirectUriProvided = RedirectUriProvided,
        ResponseMode = ResponseMode,
        State = Parameters["state"],
        Parameters = Parameters,
    };

    /// <summary>The validated request, after the last step.</summary>
    public AuthorizationRequest ToRequest() => new()
    {
        Client = Client,
        RedirectUri = RedirectUri!,
        RedirectUriProvided = RedirectUriProvided,
        ResponseMode = ResponseMode,
        State = Parameters["state"],
        Scopes = Scopes,
        Resources = Resources,
        Nonce = Parameters["nonce"],
        CodeChallenge = CodeChallenge,
        Prompt = Prompt,
        MaxAge = MaxAge,
        LoginHint = Parameters["login_hint"],
        UiLocales = Parameters["ui_locales"],
        Parameters = Parameters,
        Pushed = Pushed,
    };
}
