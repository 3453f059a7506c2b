using System.Globalization;
using System.Text.RegularExpressions;
using IdentityServer.Clients;
using IdentityServer.Protocol.Authorization;

namespace IdentityServer.Protocol;

/// <summary>The result of validating an authorization request: a request, an error for the client, or an error for the person.</summary>
public sealed record AuthorizationValidation(AuthorizationRequest? Request, OAuthError? ClientError, string? PageError, AuthorizationRequest? ErrorTarget);

/// <summary>
/// Validates /authorize requests as a sequence of small named steps over one <see cref="AuthorizationContext"/>. A step
/// returns null to continue, or the error that ends the request. Order matters: until client_id and redirect_uri are
/// trusted, an error is shown to the person and never redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.1); after that, errors
/// go back to the client. Within each phase the first failing step decides the error.
/// </summary>
public sealed partial class AuthorizationRequestValidator(ClientStore clients, ScopeCatalog scopeCatalog, AudienceResolver audiences,
    PushedAuthorization.PushedAuthorizationOptions pushedAuthorization)
{
    private const int MaxParameterLength = 2048;

    /// <summary>
    /// state is the client's own opaque value (RFC 6749 §4.1.1, §10.12), and stateless clients carry their request data in
    /// it, encrypted: OpenIddict.Client without token storage sends about 4 KB, ASP.NET Core's OpenIdConnect handler 1 to
    /// 3 KB. 6 KB admits them and still fits Kestrel's 8 KB request line once the request rides in the sign-in page's
    /// returnUrl.
    /// </summary>
    private const int MaxStateLength = 6144;

    /// <param name="parameters">The request's parameters (for a pushed request at /authorize, those that were pushed).</param>
    /// <param name="cancellationToken">The request's.</param>
    /// <param name="pushed">The pushed request they came from, at /authorize.</param>
    /// <param name="atPushEndpoint">Whether this is the push itself (RFC 9126 §2.1), where "PAR required" is met by definition.</param>
    public async Task<AuthorizationValidation> ValidateAsync(OAuthParameters parameters, CancellationToken cancellationToken,
        PushedAuthorization.PushedAuthorizationReference? pushed = null, bool atPushEndpoint = false)
    {
        var context = new AuthorizationContext(parameters) { Pushed = pushed };

        // Phase 1, errors shown to the person: the client and where to send it answers are not trusted yet.
        var pageError = ClientIdPresent(context)
            ?? await ClientRegisteredAsync(context, cancellationToken)
            ?? ClientIdAndRedirectUriOnce(context)
            ?? RedirectUriPresentOrImplied(context)
            ?? RedirectUriRegistered(context);
        if (pageError is not null)
        {
            return new AuthorizationValidation(null, null, pageError, null);
        }

        // Phase 2, errors sent back to the client's redirect_uri.
        var clientError = ParametersOnce(context)
            ?? (atPushEndpoint ? null : PushedWhenRequired(context))
            ?? ResponseModeSupported(context)
            ?? ParametersShortEnough(context)
            ?? NoRequestObject(context)
            ?? NoRequestUri(context)
            ?? ResponseTypePresent(context)
            ?? ResponseTypeIsCode(context)
            ?? ClientMayUseCodeFlow(context)
            ?? CodeChallengePresent(context)
            ?? CodeChallengeMethodIsS256(context)
            ?? CodeChallengeIsSha256(context)
            ?? PromptValuesKnown(context)
            ?? PromptNoneAlone(context)
            ?? MaxAgeIsSeconds(context)
            ?? DPoPKeyThumbprintWellFormed(context)
            ?? await ScopesAllowedAsync(context, cancellationToken)
            ?? await ResourcesAllowedAsync(context, cancellationToken);
        return clientError is null
            ? new AuthorizationValidation(context.ToRequest(), null, null, null)
            : new AuthorizationValidation(null, clientError, null, context.ToErrorTarget());
    }

    // ---- Phase 1: errors for the person (never redirected) ----

    /// <summary>RFC 6749 §4.1.1 (client_id is required) and §4.1.2.1 (a missing client identifier is not redirected).</summary>
    private static string? ClientIdPresent(AuthorizationContext context) =>
        context.Parameters["client_id"] is null ? "The request has no client_id." : null;

    /// <summary>RFC 6749 §4.1.2.1: an invalid (unknown or disabled) client identifier is not redirected.</summary>
    private async ValueTask<string?> ClientRegisteredAsync(AuthorizationContext context, CancellationToken cancellationToken)
    {
        var clientId = context.Parameters["client_id"]!;
        var client = clientId.Length <= 100 ? await clients.FindAsync(clientId, cancellationToken) : null;
        if (client is null || !client.Enabled)
        {
            return "The application that sent you here is not registered with this server (unknown or disabled client).";
        }

        context.Client = client;
        return null;
    }

    /// <summary>RFC 6749 §3.1: parameters must not repeat; a repeated client_id or redirect_uri cannot be trusted to redirect to.</summary>
    private static string? ClientIdAndRedirectUriOnce(AuthorizationContext context) =>
        context.Parameters.Duplicate is "client_id" or "redirect_uri" ? $"The request repeats the {context.Parameters.Duplicate} parameter." : null;

    /// <summary>RFC 6749 §3.1.2.3: plain OAuth may omit redirect_uri when exactly one is registered; OpenID Connect Core §3.1.2.1 requires it.</summary>
    private static string? RedirectUriPresentOrImplied(AuthorizationContext context)
    {
        var redirectUri = context.Parameters["redirect_uri"];
        if (redirectUri is not null)
        {
            context.RedirectUri = redirectUri;
            context.RedirectUriProvided = true;
            return null;
        }

        var client = context.Client;
        if (client.RedirectUris.Count != 1 || context.Parameters["scope"]?.Split(' ').Contains(ScopeCatalog.OpenId) == true)
        {
            return "The request has no redirect_uri.";
        }

        context.RedirectUri = client.RedirectUris.First();
        return null;
    }

    /// <summary>RFC 6749 §3.1.2.3 and RFC 9700 §2.1, §4.1.3: exact string comparison, no prefix, wildcard or normalisation.</summary>
    private static string? RedirectUriRegistered(AuthorizationContext context) =>
        context.RedirectUriProvided && !context.Client.RedirectUris.Contains(context.RedirectUri!)
            ? "The redirect_uri is not registered for this application."
            : null;

    // ---- Phase 2: errors for the client (redirected with state and iss) ----

    /// <summary>RFC 6749 §3.1: request parameters must not be included more than once (resource may repeat, RFC 8707 §2).</summary>
    private static OAuthError? ParametersOnce(AuthorizationContext context) =>
        context.Parameters.Duplicate is { } duplicate ? InvalidRequest($"The {duplicate} parameter is repeated.") : null;

    /// <summary>
    /// RFC 9126 §5 (require_pushed_authorization_requests), server-wide or per client: a request sent through the browser
    /// is refused. The client and redirect URI are registered, so the refusal goes back to the client.
    /// </summary>
    private OAuthError? PushedWhenRequired(AuthorizationContext context) =>
        context.Pushed is null && (pushedAuthorization.RequireForAllClients || context.Client.Settings.RequirePushedAuthorizationRequests == true)
            ? InvalidRequest("This client must push its authorization requests first (PAR, RFC 9126).")
            : null;

    /// <summary>OAuth 2.0 Multiple Response Type Encoding Practices §2.1 (query, fragment) and Form Post Response Mode §2.</summary>
    private static OAuthError? ResponseModeSupported(AuthorizationContext context) =>
        context.Parameters["response_mode"] is null or ResponseModes.Query or ResponseModes.Fragment or ResponseModes.FormPost
            ? null
            : InvalidRequest("response_mode must be query, fragment or form_post.");

    /// <summary>
    /// This server's own limit (no spec sets one): no parameter value longer than 2048 characters is stored or echoed,
    /// except state (<see cref="MaxStateLength"/>).
    /// </summary>
    private static OAuthError? ParametersShortEnough(AuthorizationContext context)
    {
        foreach (var (name, values) in context.Parameters.Pairs)
        {
            var limit = name == "state" ? MaxStateLength : MaxParameterLength;
            foreach (var value in values)
            {
                if (value?.Length > limit)
                {
                    return InvalidRequest($"The {name} parameter is too long.");
                }
            }
        }

        return null;
    }

    /// <summary>OpenID Connect Core §6.1 and §3.1.2.6: request objects are not supported (request_not_supported).</summary>
    private static OAuthError? NoRequestObject(AuthorizationContext context) =>
        context.Parameters["request"] is not null ? new OAuthError(OAuthErrors.RequestNotSupported, "Request objects are not supported.") : null;

    /// <summary>
    /// OpenID Connect Core §6.2 and §3.1.2.6: a request_uri that points at a request object is not supported
    /// (request_uri_not_supported). Pushed requests' request_uri (RFC 9126 §4) is resolved before these steps run, and a
    /// pushed request cannot itself carry one (§2.1).
    /// </summary>
    private static OAuthError? NoRequestUri(AuthorizationContext context) =>
        context.Parameters["request_uri"] is not null ? new OAuthError(OAuthErrors.RequestUriNotSupported, "request_uri is not supported.") : null;

    /// <summary>RFC 6749 §3.1.1 and §4.1.1: response_type is required.</summary>
    private static OAuthError? ResponseTypePresent(AuthorizationContext context) =>
        context.Parameters["response_type"] is null ? InvalidRequest("response_type is required.") : null;

    /// <summary>RFC 6749 §4.1.2.1 (unsupported_response_type) and RFC 9700 §2.1.2: only the code flow, no implicit or hybrid.</summary>
    private static OAuthError? ResponseTypeIsCode(AuthorizationContext context) =>
        context.Parameters["response_type"] != "code"
            ? new OAuthError(OAuthErrors.UnsupportedResponseType, "Only response_type=code is supported.")
            : null;

    /// <summary>RFC 6749 §4.1.2.1 (unauthorized_client): the client must be allowed the authorization_code grant.</summary>
    private static OAuthError? ClientMayUseCodeFlow(AuthorizationContext context) =>
        context.Client.AllowsGrant("authorization_code")
            ? null
            : new OAuthError(OAuthErrors.UnauthorizedClient, "This client may not use the authorization code flow.");

    /// <summary>RFC 7636 §4.4.1 and RFC 9700 §2.1.1: PKCE for every client, so a missing code_challenge is invalid_request.</summary>
    private static OAuthError? CodeChallengePresent(AuthorizationContext context)
    {
        context.CodeChallenge = context.Parameters["code_challenge"];
        return context.CodeChallenge is null ? InvalidRequest("code_challenge is required (PKCE).") : null;
    }

    /// <summary>RFC 7636 §4.3 (an absent method means plain), §4.4.1 and RFC 9700 §2.1.1: S256 only.</summary>
    private static OAuthError? CodeChallengeMethodIsS256(AuthorizationContext context) =>
        context.Parameters["code_challenge_method"] != "S256" ? InvalidRequest("code_challenge_method must be S256.") : null;

    /// <summary>RFC 7636 §4.2: an S256 challenge is the base64url SHA-256 of the verifier, 43 characters.</summary>
    private static OAuthError? CodeChallengeIsSha256(AuthorizationContext context) =>
        ChallengeFormat().IsMatch(context.CodeChallenge!) ? null : InvalidRequest("code_challenge is not a base64url SHA-256 value.");

    /// <summary>OpenID Connect Core §3.1.2.1: prompt is a space-separated list of none, login, consent and select_account.</summary>
    private static OAuthError? PromptValuesKnown(AuthorizationContext context)
    {
        if (context.Parameters["prompt"] is not { } text)
        {
            return null;
        }

        var prompt = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        foreach (var value in prompt)
        {
            if (value is not (Prompts.None or Prompts.Login or Prompts.Consent or Prompts.SelectAccount))
            {
                return InvalidRequest("prompt has an unsupported value.");
            }
        }

        context.Prompt = prompt;
        return null;
    }

    /// <summary>OpenID Connect Core §3.1.2.1: none must not be combined with other values.</summary>
    private static OAuthError? PromptNoneAlone(AuthorizationContext context) =>
        context.Prompt.Contains(Prompts.None) && context.Prompt.Count > 1 ? InvalidRequest("prompt=none cannot be combined with other values.") : null;

    /// <summary>OpenID Connect Core §3.1.2.1: max_age is a non-negative number of seconds.</summary>
    private static OAuthError? MaxAgeIsSeconds(AuthorizationContext context)
    {
        if (context.Parameters["max_age"] is not { } text)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var maxAge))
        {
            return InvalidRequest("max_age must be a non-negative number of seconds.");
        }

        context.MaxAge = maxAge;
        return null;
    }

    /// <summary>RFC 9449 §10: dpop_jkt is the base64url SHA-256 thumbprint (RFC 7638) of the key the code will be bound to.</summary>
    private static OAuthError? DPoPKeyThumbprintWellFormed(AuthorizationContext context) =>
        context.Parameters["dpop_jkt"] is { } jkt && !ChallengeFormat().IsMatch(jkt) ? InvalidRequest("dpop_jkt is not a base64url SHA-256 JWK thumbprint.") : null;

    /// <summary>RFC 6749 §3.3 and §4.1.2.1 (invalid_scope): every scope known and permitted to the client.</summary>
    private async ValueTask<OAuthError?> ScopesAllowedAsync(AuthorizationContext context, CancellationToken cancellationToken)
    {
        var (scopes, error) = await ValidateScopesAsync(context.Client, context.Parameters["scope"], cancellationToken);
        if (error is not null)
        {
            return new OAuthError(OAuthErrors.InvalidScope, error);
        }

        context.Scopes = scopes;
        return null;
    }

    /// <summary>RFC 8707 §2 (invalid_target): each resource an absolute URI this client may obtain through its scopes.</summary>
    private async ValueTask<OAuthError?> ResourcesAllowedAsync(AuthorizationContext context, CancellationToken cancellationToken)
    {
        var resources = context.Parameters.All("resource");
        var (_, error) = await audiences.ResolveAsync(context.Client, context.Scopes, resources, cancellationToken);
        if (error is not null)
        {
            return new OAuthError(OAuthErrors.InvalidTarget, error);
        }

        context.Resources = resources;
        return null;
    }

    /// <summary>Every scope must be known and permitted to the client; openid is open to every code-flow client.</summary>
    public async Task<(IReadOnlyList<string> Scopes, string? Error)> ValidateScopesAsync(ClientDescriptor client, string? scope, CancellationToken cancellationToken)
    {
        var requested = (scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        var known = await scopeCatalog.GetAllAsync(cancellationToken);
        foreach (var name in requested)
        {
            if (!known.ContainsKey(name))
            {
                return ([], $"The scope '{Truncate(name)}' is not known.");
            }

            if (name != ScopeCatalog.OpenId && !client.Scopes.Contains(name))
            {
                return ([], $"This client may not request the scope '{name}'.");
            }
        }

        return (requested, null);
    }

    private static OAuthError InvalidRequest(string description) => new(OAuthErrors.InvalidRequest, description);

    private static string Truncate(string value) => value.Length > 50 ? value[..50] + "..." : value;

    [GeneratedRegex("^[A-Za-z0-9_-]{43}$")]
    private static partial Regex ChallengeFormat();
}
