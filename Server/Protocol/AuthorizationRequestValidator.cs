using System.Text.RegularExpressions;
using IdentityServer.Clients;

namespace IdentityServer.Protocol;

/// <summary>The result of validating an authorization request: a request, an error for the client, or an error for the person.</summary>
public sealed record AuthorizationValidation(AuthorizationRequest? Request, OAuthError? ClientError, string? PageError, AuthorizationRequest? ErrorTarget);

/// <summary>
/// Validates /authorize requests. Order matters: until client_id and redirect_uri are trusted, an error is shown to the
/// person and never redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.1); after that, errors go back to the client.
/// </summary>
public sealed partial class AuthorizationRequestValidator(ClientStore clients, ScopeCatalog scopeCatalog, AudienceResolver audiences)
{
    private const int MaxParameterLength = 2048;

    public async Task<AuthorizationValidation> ValidateAsync(OAuthParameters parameters, CancellationToken cancellationToken)
    {
        var clientId = parameters["client_id"];
        if (clientId is null)
        {
            return Page("The request has no client_id.");
        }

        var client = clientId.Length <= 100 ? await clients.FindAsync(clientId, cancellationToken) : null;
        if (client is null || !client.Enabled)
        {
            return Page("The application that sent you here is not registered with this server (unknown or disabled client).");
        }

        if (parameters.Duplicate is "client_id" or "redirect_uri")
        {
            return Page($"The request repeats the {parameters.Duplicate} parameter.");
        }

        var redirectUri = parameters["redirect_uri"];
        var provided = redirectUri is not null;
        if (redirectUri is null)
        {
            // OpenID Connect requires redirect_uri; plain OAuth may omit it when exactly one is registered (RFC 6749 §3.1.2.3).
            if (client.RedirectUris.Count != 1 || parameters["scope"]?.Split(' ').Contains(ScopeCatalog.OpenId) == true)
            {
                return Page("The request has no redirect_uri.");
            }

            redirectUri = client.RedirectUris.First();
        }
        else if (!client.RedirectUris.Contains(redirectUri))
        {
            // Exact string comparison (RFC 9700 §4.1.3): no prefix, wildcard or normalisation.
            return Page("The redirect_uri is not registered for this application.");
        }

        var responseMode = parameters["response_mode"] ?? ResponseModes.Query;
        var target = new AuthorizationRequest
        {
            Client = client,
            RedirectUri = redirectUri,
            RedirectUriProvided = provided,
            ResponseMode = responseMode is ResponseModes.FormPost or ResponseModes.Fragment ? responseMode : ResponseModes.Query,
            State = parameters["state"],
            Parameters = parameters,
        };

        if (parameters.Duplicate is { } duplicate)
        {
            return Client(target, OAuthErrors.InvalidRequest, $"The {duplicate} parameter is repeated.");
        }

        // OAuth 2.0 Multiple Response Type Encoding Practices §2.1 (query, fragment) and Form Post Response Mode §2.
        if (responseMode is not (ResponseModes.Query or ResponseModes.Fragment or ResponseModes.FormPost))
        {
            return Client(target, OAuthErrors.InvalidRequest, "response_mode must be query, fragment or form_post.");
        }

        foreach (var (name, values) in parameters.Pairs)
        {
            if (values.Any(v => v?.Length > MaxParameterLength))
            {
                return Client(target, OAuthErrors.InvalidRequest, $"The {name} parameter is too long.");
            }
        }

        // OpenID Connect Core §6: request objects are not supported.
        if (parameters["request"] is not null)
        {
            return Client(target, OAuthErrors.RequestNotSupported, "Request objects are not supported.");
        }

        if (parameters["request_uri"] is not null)
        {
            return Client(target, OAuthErrors.RequestUriNotSupported, "request_uri is not supported.");
        }

        var responseType = parameters["response_type"];
        if (responseType is null)
        {
            return Client(target, OAuthErrors.InvalidRequest, "response_type is required.");
        }

        if (responseType != "code")
        {
            // Only the code flow: no implicit or hybrid (RFC 9700 §2.1.2).
            return Client(target, OAuthErrors.UnsupportedResponseType, "Only response_type=code is supported.");
        }

        if (!client.AllowsGrant("authorization_code"))
        {
            return Client(target, OAuthErrors.UnauthorizedClient, "This client may not use the authorization code flow.");
        }

        // RFC 7636 §4.3 and RFC 9700 §2.1.1: PKCE for every client, S256 only (absent method means plain).
        var challenge = parameters["code_challenge"];
        if (challenge is null)
        {
            return Client(target, OAuthErrors.InvalidRequest, "code_challenge is required (PKCE).");
        }

        if (parameters["code_challenge_method"] != "S256")
        {
            return Client(target, OAuthErrors.InvalidRequest, "code_challenge_method must be S256.");
        }

        if (!ChallengeFormat().IsMatch(challenge))
        {
            return Client(target, OAuthErrors.InvalidRequest, "code_challenge is not a base64url SHA-256 value.");
        }

        var prompt = (parameters["prompt"] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (prompt.Any(p => p is not (Prompts.None or Prompts.Login or Prompts.Consent or Prompts.SelectAccount)))
        {
            return Client(target, OAuthErrors.InvalidRequest, "prompt has an unsupported value.");
        }

        if (prompt.Contains(Prompts.None) && prompt.Count > 1)
        {
            // OpenID Connect Core §3.1.2.1: none must not be combined with other values.
            return Client(target, OAuthErrors.InvalidRequest, "prompt=none cannot be combined with other values.");
        }

        int? maxAge = null;
        if (parameters["max_age"] is { } maxAgeText)
        {
            if (!int.TryParse(maxAgeText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
            {
                return Client(target, OAuthErrors.InvalidRequest, "max_age must be a non-negative number of seconds.");
            }

            maxAge = parsed;
        }

        var scopeResult = await ValidateScopesAsync(client, parameters["scope"], cancellationToken);
        if (scopeResult.Error is not null)
        {
            return Client(target, OAuthErrors.InvalidScope, scopeResult.Error);
        }

        var resources = parameters.All("resource");
        var audienceCheck = await audiences.ResolveAsync(client, scopeResult.Scopes, resources, cancellationToken);
        if (audienceCheck.Error is not null)
        {
            return Client(target, OAuthErrors.InvalidTarget, audienceCheck.Error);
        }

        return new AuthorizationValidation(new AuthorizationRequest
        {
            Client = client,
            RedirectUri = redirectUri,
            RedirectUriProvided = provided,
            ResponseMode = target.ResponseMode,
            State = target.State,
            Scopes = scopeResult.Scopes,
            Resources = resources,
            Nonce = parameters["nonce"],
            CodeChallenge = challenge,
            Prompt = prompt,
            MaxAge = maxAge,
            LoginHint = parameters["login_hint"],
            UiLocales = parameters["ui_locales"],
            Parameters = parameters,
        }, null, null, null);
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

    private static string Truncate(string value) => value.Length > 50 ? value[..50] + "..." : value;

    private static AuthorizationValidation Page(string message) => new(null, null, message, null);

    private static AuthorizationValidation Client(AuthorizationRequest target, string error, string description) =>
        new(null, new OAuthError(error, description), null, target);

    [GeneratedRegex("^[A-Za-z0-9_-]{43}$")]
    private static partial Regex ChallengeFormat();
}
