using IdentityServer.Hosting;
using IdentityServer.Protocol.Grants;

namespace IdentityServer.Protocol;

/// <summary>
/// The token endpoint (RFC 6749 §3.2): a form POST, an authenticated client, and one of the grant types the client is
/// permitted. Every answer, success or error, carries Cache-Control: no-store (§5.1).
/// </summary>
public static class TokenEndpoint
{
    public static IEndpointRouteBuilder MapTokenEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost(EndpointPaths.Token, HandleAsync).DisableAntiforgery().RequireCors(CorsSetup.ClientOrigins).RequireRateLimit(RateLimitScope.TokenEndpoints);
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, ClientAuthenticator authenticator, IServiceProvider services)
    {
        var cancellationToken = context.RequestAborted;
        var parameters = await OAuthParameters.ReadAsync(context.Request, cancellationToken);
        if (parameters.NotAForm)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, parameters.FormProblem).ToJson();
        }

        if (parameters.Duplicate is { } duplicate)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, $"The {duplicate} parameter is repeated.").ToJson();
        }

        var authentication = await authenticator.AuthenticateAsync(context.Request, parameters, cancellationToken);
        if (authentication.Client is not { } client)
        {
            return authentication.ErrorResult();
        }

        var grantType = parameters["grant_type"];
        if (grantType is null)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, "grant_type is required.").ToJson();
        }

        ITokenGrant? grant = grantType switch
        {
            GrantTypes.AuthorizationCode => services.GetRequiredService<AuthorizationCodeGrant>(),
            GrantTypes.RefreshToken => services.GetRequiredService<RefreshTokenGrant>(),
            GrantTypes.ClientCredentials => services.GetRequiredService<ClientCredentialsGrant>(),
            _ => null,
        };
        if (grant is null)
        {
            return new OAuthError(OAuthErrors.UnsupportedGrantType, "This grant type is not supported.").ToJson();
        }

        if (!client.AllowsGrant(grantType))
        {
            return new OAuthError(OAuthErrors.UnauthorizedClient, $"This client may not use the {grantType} grant.").ToJson();
        }

        return await grant.HandleAsync(client, parameters, cancellationToken);
    }
}
