using IdentityServer.Accounts;
using IdentityServer.Hosting;
using IdentityServer.Protocol.PushedAuthorization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Protocol;

/// <summary>
/// The authorization endpoint (RFC 6749 §3.1, OpenID Connect Core §3.1.2), GET and POST: validates the request, makes
/// sure the person is signed in (recently enough) and has consented, then returns a single-use code to the client.
/// </summary>
public static class AuthorizeEndpoint
{
    /// <summary>Added by the consent page when the person said no.</summary>
    public const string ConsentDeniedParameter = "consent";
    public const string ConsentDeniedValue = "denied";

    public static IEndpointRouteBuilder MapAuthorizeEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMethods(EndpointPaths.Authorize, [HttpMethods.Get, HttpMethods.Post], HandleAsync).DisableAntiforgery().RequireRateLimit(RateLimitScope.Authorize);
        return app;
    }

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        AuthorizationRequestValidator validator,
        PushedRequestResolver pushedRequests,
        AuthorizationCodeIssuer codes,
        ConsentService consent,
        TwoFactorSignIn twoFactor,
        ServerOptions protocol,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("IdentityServer.Protocol.Authorize");
        var cancellationToken = context.RequestAborted;
        var parameters = await OAuthParameters.ReadAsync(context.Request, cancellationToken);
        if (parameters.NotAForm)
        {
            return AuthorizationResponse.ErrorPage("The request must be a GET, or a POST of a form.", CorrelationId.Get(context));
        }

        // RFC 9126 §4: a request_uri stands for the request the client pushed.
        var resolved = await pushedRequests.ResolveAsync(context, parameters, cancellationToken);
        if (resolved.PageError is not null)
        {
            return AuthorizationResponse.ErrorPage(resolved.PageError, CorrelationId.Get(context));
        }

        var validation = await validator.ValidateAsync(resolved.Parameters, cancellationToken, resolved.Pushed);
        if (validation.PageError is not null)
        {
            logger.LogWarning("Authorization request refused without redirect: {Reason} (client {ClientId})", validation.PageError, Truncate(parameters["client_id"]));
            return AuthorizationResponse.ErrorPage(validation.PageError, CorrelationId.Get(context));
        }

        if (validation.ClientError is not null)
        {
            logger.LogInformation("Authorization request refused: {Error} {Description} (client {ClientId})", validation.ClientError.Error, validation.ClientError.Description, validation.ErrorTarget!.Client.ClientId);
            return AuthorizationResponse.Error(validation.ErrorTarget, protocol.Issuer, validation.ClientError);
        }

        var request = validation.Request!;
        if (parameters[ConsentDeniedParameter] == ConsentDeniedValue)
        {
            return AuthorizationResponse.Error(request, protocol.Issuer, new OAuthError(OAuthErrors.AccessDenied, "The user denied the request."));
        }

        var authentication = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var session = authentication.Succeeded ? SignInSession.From(authentication.Principal) : null;
        if (NeedsSignIn(request, session, time.GetUtcNow()) || await NeedsSecondFactorAsync(request, session, twoFactor))
        {
            if (request.Prompt.Contains(Prompts.None))
            {
                return AuthorizationResponse.Error(request, protocol.Issuer, new OAuthError(OAuthErrors.LoginRequired, "The user must sign in."));
            }

            return Results.Redirect(SignInUrl(request, context));
        }

        var hasConsent = !request.Client.RequiresConsent
            || (RemembersConsent(request) && await consent.HasConsentAsync(request.Client.Id, session!.Subject, request.Scopes, cancellationToken));
        if (!hasConsent)
        {
            if (request.Prompt.Contains(Prompts.None))
            {
                return AuthorizationResponse.Error(request, protocol.Issuer, new OAuthError(OAuthErrors.ConsentRequired, "The user must consent."));
            }

            return Results.Redirect("/consent?returnUrl=" + Uri.EscapeDataString(ReturnUrl(request, context, Prompts.Consent)));
        }

        if (!await pushedRequests.TryCompleteAsync(request, cancellationToken))
        {
            return AuthorizationResponse.ErrorPage(PushedRequestResolver.AlreadyAnswered, CorrelationId.Get(context));
        }

        var code = await codes.IssueAsync(request, session!, cancellationToken);
        if (code is null)
        {
            // The session names a user who no longer exists: start over with a fresh sign-in, unless the client
            // asked for no user interface at all (Core §3.1.2.1: prompt=none never shows a page).
            await context.SignOutAsync(IdentityConstants.ApplicationScheme);
            return request.Prompt.Contains(Prompts.None)
                ? AuthorizationResponse.Error(request, protocol.Issuer, new OAuthError(OAuthErrors.LoginRequired, "The user must sign in."))
                : Results.Redirect(SignInUrl(request, context));
        }

        return AuthorizationResponse.Success(request, protocol.Issuer, code);
    }

    /// <summary>
    /// Whether consent given earlier may answer this request without asking. Not on prompt=consent (Core §3.1.2.1), and
    /// never for a public client: anyone can send its client_id and redirect_uri, so a repeated request is not known
    /// to come from the client the person approved. RFC 6749 §10.2: the server "SHOULD NOT process repeated
    /// authorization requests automatically (without active resource owner interaction) without authenticating the
    /// client"; RFC 8252 §8.6: "unless the identity of the client can be proven, the request SHOULD be processed as if
    /// no previous request had been approved". A confidential client's code is worthless without its credentials; a
    /// first-party client (implicit consent) is not asked at all.
    /// </summary>
    private static bool RemembersConsent(AuthorizationRequest request) =>
        request.Client.IsConfidential && !request.Prompt.Contains(Prompts.Consent);

    /// <summary>
    /// Sign-in is needed with no session, on prompt=login/select_account, or when the session is older than max_age (Core
    /// §3.1.2.1). A pushed request keeps its prompt and max_age from step to step (the browser carries only the
    /// request_uri), so for it a sign-in since this browser brought the request satisfies them.
    /// </summary>
    internal static bool NeedsSignIn(AuthorizationRequest request, SignInSession? session, DateTimeOffset now) =>
        session is null
        || (!PushedRequestResolver.SignedInSinceClaim(request, session)
            && (request.Prompt.Contains(Prompts.Login)
                || request.Prompt.Contains(Prompts.SelectAccount)
                || (request.MaxAge is { } maxAge && now - session.AuthTime > TimeSpan.FromSeconds(maxAge))));

    /// <summary>
    /// acr_values asking for the multi-factor level, from a single-factor session of an account that has a second factor:
    /// the person signs in again, with it. An account without one goes on, and its ID token says acr "1" (acr_values is
    /// voluntary, Core §3.1.2.1; it is the client's to refuse a level it finds too low).
    /// </summary>
    private static async Task<bool> NeedsSecondFactorAsync(AuthorizationRequest request, SignInSession? session, TwoFactorSignIn twoFactor)
    {
        if (session is null || session.IsMultiFactor || !request.WantsMultiFactor)
        {
            return false;
        }

        return await twoFactor.IsRequiredAsync(session.Subject);
    }

    private static string SignInUrl(AuthorizationRequest request, HttpContext context)
    {
        // After signing in, the person comes back without prompt/max_age, which that fresh sign-in has satisfied.
        var url = "/account/login?returnUrl=" + Uri.EscapeDataString(ReturnUrl(request, context, Prompts.Login, Prompts.SelectAccount));
        return request.LoginHint is null ? url : url + "&login_hint=" + Uri.EscapeDataString(request.LoginHint);
    }

    /// <summary>The same request as a local GET URL, minus the prompt values that the next step satisfies.</summary>
    private static string ReturnUrl(AuthorizationRequest request, HttpContext context, params string[] satisfiedPrompts)
    {
        if (request.Pushed is { } pushed)
        {
            // RFC 9126 §4: the pushed parameters stay on the server; the next step brings the request_uri back.
            return AuthorizationResponse.AppendQuery(context.Request.PathBase + EndpointPaths.Authorize,
                [new("client_id", request.Client.ClientId), new("request_uri", pushed.RequestUri)]);
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Parameters.Pairs)
        {
            if (name == "max_age" && satisfiedPrompts.Contains(Prompts.Login))
            {
                continue;
            }

            if (name == "prompt")
            {
                var remaining = string.Join(' ', request.Prompt.Where(p => !satisfiedPrompts.Contains(p)));
                if (remaining.Length > 0)
                {
                    pairs.Add(new(name, remaining));
                }

                continue;
            }

            pairs.AddRange(values.Where(v => v is not null).Select(v => new KeyValuePair<string, string>(name, v!)));
        }

        return AuthorizationResponse.AppendQuery(context.Request.PathBase + EndpointPaths.Authorize, pairs);
    }

    private static string? Truncate(string? value) => value is { Length: > 100 } ? value[..100] : value;
}
