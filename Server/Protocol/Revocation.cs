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
        app.MapPost(EndpointPaths.Revocation, HandleAsync).RequireClientAuthentication()
            .DisableAntiforgery().RequireCors(CorsSetup.ClientOrigins).RequireRateLimit(RateLimitScope.TokenEndpoints);
        return app;
    }

    private static async Task<IResult> HandleAsync(ClientRequest request, AccessTokenValidator validator, AccessTokenStatus status,
        TokenFamilies families, ILoggerFactory loggers, AuditLog audit)
    {
        var client = request.Client;
        if (request.Parameters["token"] is not { } token)
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
                await status.RevokeAsync(validated, request.Aborted);
                logger.LogInformation("Access token {Jti} revoked by client {ClientId}", validated.Jti, client.ClientId);
                await audit.RecordTokenEventAsync(client.ClientId, "access_token.revoked", AuditOutcomes.Success, "access_token:" + validated.Jti,
                    new { validated.Subject });
            }
        }
        else if (await families.RevokeRefreshTokenFamilyAsync(client, token, request.Aborted) is var (subject, familyId))
        {
            logger.LogInformation("Refresh-token family {AuthorizationId} revoked by client {ClientId}", familyId, client.ClientId);
            await audit.RecordTokenEventAsync(client.ClientId, "refresh_token.revoked", AuditOutcomes.Success, "grant:" + familyId,
                new { Subject = subject });
        }

        return new OAuthJsonResult(StatusCodes.Status200OK, _ => { });
    }
}
