using IdentityServer.Hosting;

namespace IdentityServer.Protocol;

/// <summary>
/// The end_session endpoint (OpenID Connect RP-Initiated Logout 1.0), GET and POST. When the request names the
/// signed-in person through id_token_hint the session ends at once; otherwise the person confirms on a page.
/// </summary>
public static class EndSessionEndpoint
{
    public static IEndpointRouteBuilder MapEndSessionEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMethods(EndpointPaths.EndSession, [HttpMethods.Get, HttpMethods.Post], HandleAsync).DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, EndSessionHandler handler, ILoggerFactory loggers)
    {
        var parameters = await OAuthParameters.ReadAsync(context.Request, context.RequestAborted);
        var (request, error) = parameters.NotAForm ? (null, "The request must be a GET, or a POST of a form.") : await handler.ValidateAsync(parameters, context.RequestAborted);
        if (request is null)
        {
            loggers.CreateLogger("IdentityServer.Protocol.EndSession").LogWarning("Logout request refused without redirect: {Reason}", error);
            return AuthorizationResponse.ErrorPage(error!, CorrelationId.Get(context), "This sign-out request cannot be completed");
        }

        var session = await EndSessionHandler.CurrentSessionAsync(context);
        if (EndSessionHandler.NeedsConfirmation(request, session))
        {
            var query = string.Join('&', parameters.Pairs.SelectMany(p => p.Value.Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v ?? ""))));
            return Results.Redirect("/account/logout?logoutRequest=" + Uri.EscapeDataString(query));
        }

        return await handler.SignOutAsync(context, request, session);
    }
}
