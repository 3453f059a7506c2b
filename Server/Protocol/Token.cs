using IdentityServer.Clients;
using IdentityServer.Hosting;
using IdentityServer.Protocol.DPoP;
using IdentityServer.Protocol.Grants;

namespace IdentityServer.Protocol;

/// <summary>
/// The token endpoint (RFC 6749 §3.2): behind the shared front (form, no repeated parameter, an authenticated client),
/// one of the registered grant types that the client is permitted. Every answer, success or error, carries
/// Cache-Control: no-store (§5.1).
/// </summary>
public static class TokenEndpoint
{
    public static IEndpointRouteBuilder MapTokenEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost(EndpointPaths.Token, HandleAsync).RequireClientAuthentication()
            .DisableAntiforgery().RequireCors(CorsSetup.ClientOrigins).RequireRateLimit(RateLimitScope.TokenEndpoints);
        return app;
    }

    private static async Task<IResult> HandleAsync(ClientRequest request, TokenGrantRegistry grants, ServerMetrics metrics, IServiceProvider services,
        DPoPTokenRequest dpop, HttpContext http)
    {
        var (client, parameters) = (request.Client, request.Parameters);
        if (parameters["grant_type"] is not { } grantType)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, "grant_type is required.").ToJson();
        }

        if (grants.Find(services, grantType) is not { } grant)
        {
            return new OAuthError(OAuthErrors.UnsupportedGrantType, "This grant type is not supported.").ToJson();
        }

        if (!client.AllowsGrant(grantType))
        {
            // §5.2: the client is not authorized to use this grant type.
            return new OAuthError(OAuthErrors.UnauthorizedClient, $"This client may not use the {grantType} grant.").ToJson();
        }

        // RFC 9449 §5: a DPoP proof, when sent (or required of this client), is checked before any grant runs.
        if (await dpop.CheckAsync(http, client) is { } dpopError)
        {
            return dpopError;
        }

        var result = await grant.HandleAsync(client, parameters, request.Aborted);
        if (result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status200OK })
        {
            metrics.TokenIssued(grantType, client.ClientId);
        }

        return result;
    }
}
