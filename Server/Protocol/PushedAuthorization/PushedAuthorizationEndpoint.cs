using IdentityServer.Hosting;

namespace IdentityServer.Protocol.PushedAuthorization;

/// <summary>
/// The pushed authorization request endpoint (RFC 9126 §2): behind the shared client front (form, no repeated
/// parameter, an authenticated client, its rate limit), the request is validated by the same steps as /authorize, and
/// an error is the JSON of §2.3, never a redirect. A valid request is stored and answered with its request_uri (§2.2).
/// </summary>
public static class PushedAuthorizationEndpoint
{
    /// <summary>Credentials of the push itself: never part of the authorization request that is stored.</summary>
    private static readonly HashSet<string> Credentials = new(StringComparer.Ordinal) { "client_secret", "client_assertion", "client_assertion_type" };

    public static IEndpointRouteBuilder MapPushedAuthorizationEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost(EndpointPaths.PushedAuthorization, HandleAsync).RequireClientAuthentication()
            .DisableAntiforgery().RequireCors(CorsSetup.ClientOrigins).RequireRateLimit(RateLimitScope.TokenEndpoints);
        return app;
    }

    private static async Task<IResult> HandleAsync(ClientRequest request, AuthorizationRequestValidator validator, PushedRequests store, ILoggerFactory loggers)
    {
        var (client, parameters) = (request.Client, request.Parameters);
        // §2.1: request_uri is not allowed in a pushed request.
        if (parameters["request_uri"] is not null)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, "request_uri cannot be pushed.").ToJson();
        }

        // §2.1: the client_id, if sent, was checked by the front against the authenticating client; the stored request
        // always names the client that pushed it.
        var pairs = parameters.Pairs.Where(p => !Credentials.Contains(p.Key) && p.Key != "client_id")
            .Append(new("client_id", client.ClientId)).ToList();
        var authorizationParameters = OAuthParameters.From(pairs);
        var validation = await validator.ValidateAsync(authorizationParameters, request.Aborted, atPushEndpoint: true);
        var error = validation.ClientError ?? (validation.PageError is { } pageError ? new OAuthError(OAuthErrors.InvalidRequest, pageError) : null);
        if (error is not null)
        {
            loggers.CreateLogger(typeof(PushedAuthorizationEndpoint).FullName!)
                .LogInformation("Pushed authorization request refused: {Error} {Description} (client {ClientId})", error.Error, error.Description, client.ClientId);
            return error.ToJson();
        }

        var (requestUri, expiresIn) = await store.CreateAsync(client.ClientId, pairs, request.Aborted);
        return new OAuthJsonResult(StatusCodes.Status201Created, json =>
        {
            json.WriteString("request_uri", requestUri);
            json.WriteNumber("expires_in", expiresIn);
        });
    }
}
