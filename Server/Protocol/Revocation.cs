using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol;

/// <summary>
/// Token revocation (RFC 7009). Revoking a refresh token revokes its whole family; revoking a JWT access token records
/// its jti until it expires, so introspection reports it inactive. Unknown, malformed, expired, already revoked or
/// another client's tokens all get the same 200 (§2.2), so the endpoint reveals nothing.
/// </summary>
public static class RevocationEndpoint
{
    public static IEndpointRouteBuilder MapRevocationEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost(EndpointPaths.Revocation, HandleAsync).DisableAntiforgery().RequireCors(CorsSetup.ClientOrigins).RequireRateLimit(RateLimitScope.TokenEndpoints);
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, ClientAuthenticator authenticator, AccessTokenValidator validator,
        GrantStore grants, ILoggerFactory loggers, AuditLog audit)
    {
        var cancellationToken = context.RequestAborted;
        var parameters = await OAuthParameters.ReadAsync(context.Request, cancellationToken);
        if (parameters.NotAForm)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, parameters.FormProblem).ToJson();
        }

        var authentication = await authenticator.AuthenticateAsync(context.Request, parameters, cancellationToken);
        if (authentication.Client is not { } client)
        {
            return authentication.ErrorResult();
        }

        if (parameters.Duplicate is not null || parameters["token"] is not { } token)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, "Send exactly one token parameter.").ToJson();
        }

        var logger = loggers.CreateLogger("IdentityServer.Protocol.Revocation");
        // §2.1: the hint is only a hint. A JWT can only be an access token and an opaque value only a refresh token,
        // so the token's shape decides, whatever the hint says.
        if (token.Count(c => c == '.') == 2)
        {
            var validated = await validator.ValidateAsync(token);
            if (validated is not null && validated.ClientId == client.ClientId)
            {
                await grants.RevokeAccessTokenAsync(validated.Jti, validated.ExpiresAt, cancellationToken);
                logger.LogInformation("Access token {Jti} revoked by client {ClientId}", validated.Jti, client.ClientId);
                await audit.RecordAsync(new AuditEvent(AuditKinds.Token, "access_token.revoked", AuditOutcomes.Success,
                    AuditLog.ClientActor(client.ClientId), "access_token:" + validated.Jti)
                { ClientId = client.ClientId, Details = new { validated.Subject } });
            }
        }
        else
        {
            var stored = await grants.FindTokenAsync(token, cancellationToken);
            if (stored is { Type: TokenTypes.RefreshToken, AuthorizationId: not null } && stored.ApplicationId == client.Id)
            {
                await grants.RevokeAuthorizationAsync(stored.AuthorizationId, cancellationToken);
                logger.LogInformation("Refresh-token family {AuthorizationId} revoked by client {ClientId}", stored.AuthorizationId, client.ClientId);
                await audit.RecordAsync(new AuditEvent(AuditKinds.Token, "refresh_token.revoked", AuditOutcomes.Success,
                    AuditLog.ClientActor(client.ClientId), "grant:" + stored.AuthorizationId)
                { ClientId = client.ClientId, Details = new { stored.Subject } });
            }
        }

        return new OAuthJsonResult(StatusCodes.Status200OK, _ => { });
    }
}
