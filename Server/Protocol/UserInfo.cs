using IdentityServer.Accounts;
using IdentityServer.Clients;
using IdentityServer.Hosting;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol;

/// <summary>
/// The userinfo endpoint (OpenID Connect Core §5.3), GET and POST, with a bearer access token (RFC 6750 §2.1, or §2.2
/// in a form body). The token must be ours, for this server (aud = issuer), carry openid, and its grant must still stand.
/// </summary>
public static class UserInfoEndpoint
{
    public static IEndpointRouteBuilder MapUserInfoEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMethods(EndpointPaths.UserInfo, [HttpMethods.Get, HttpMethods.Post], HandleAsync).DisableAntiforgery().RequireCors(CorsSetup.ClientOrigins);
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, AccessTokenValidator validator, AccessTokenStatus status,
        UserClaimsReader users, ServerOptions protocol)
    {
        var cancellationToken = context.RequestAborted;
        var (token, malformed) = await ReadBearerTokenAsync(context.Request, cancellationToken);
        if (malformed)
        {
            return Challenge(StatusCodes.Status400BadRequest, OAuthErrors.InvalidRequest, "Send the access token once, in the Authorization header or a readable form body.");
        }

        if (token is null)
        {
            // RFC 6750 §3.1: no credentials at all -> a bare challenge, no error code.
            return new OAuthJsonResult(StatusCodes.Status401Unauthorized, _ => { }, "Bearer realm=\"userinfo\"");
        }

        var validated = await validator.ValidateAsync(token);
        // Live means: signature and expiry hold, the grant stands, the jti is not revoked and the client is still enabled.
        if (validated is null || !validated.Audiences.Contains(protocol.Issuer)
            || !await status.IsLiveAsync(validated, cancellationToken))
        {
            return Challenge(StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken, "The access token is invalid, expired or revoked.");
        }

        if (!validated.Scopes.Contains(ScopeCatalog.OpenId))
        {
            return Challenge(StatusCodes.Status403Forbidden, OAuthErrors.InsufficientScope, "The access token lacks the openid scope.");
        }

        var claims = await users.ReadAsync(validated.Subject, validated.Scopes, cancellationToken);
        if (claims is null)
        {
            return Challenge(StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken, "The user of this token no longer exists.");
        }

        return new OAuthJsonResult(StatusCodes.Status200OK, json =>
        {
            json.WriteString("sub", validated.Subject);
            claims.WriteTo(json);
        });
    }

    /// <summary>RFC 6750 §3: the error goes in WWW-Authenticate as well as the body.</summary>
    private static OAuthJsonResult Challenge(int status, string error, string description) =>
        new(status, json =>
        {
            json.WriteString("error", error);
            json.WriteString("error_description", description);
        }, $"Bearer realm=\"userinfo\", error=\"{error}\", error_description=\"{description}\"");

    /// <summary>The token from "Authorization: Bearer" or a form body's access_token; never from the query string (RFC 6750 §2.3 is not offered: URLs end up in logs).</summary>
    private static async Task<(string? Token, bool Malformed)> ReadBearerTokenAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        string? fromHeader = null;
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            fromHeader = header["Bearer ".Length..].Trim();
        }

        string? fromBody = null;
        if (HttpMethods.IsPost(request.Method) && OAuthParameters.IsUrlEncodedForm(request))
        {
            var parameters = await OAuthParameters.ReadAsync(request, cancellationToken);
            if (parameters.NotAForm || parameters.All("access_token").Count > 1)
            {
                return (null, true);
            }

            fromBody = parameters["access_token"];
        }

        if (!string.IsNullOrEmpty(fromHeader) && !string.IsNullOrEmpty(fromBody))
        {
            return (null, true); // RFC 6750 §2: MUST NOT use more than one method
        }

        return (string.IsNullOrEmpty(fromHeader) ? (string.IsNullOrEmpty(fromBody) ? null : fromBody) : fromHeader, false);
    }
}
