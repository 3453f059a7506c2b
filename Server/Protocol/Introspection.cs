using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol;

/// <summary>
/// Token introspection (RFC 7662) for resource servers that need the truth now: a JWT access token is active only while
/// its signature and expiry hold, its grant is valid, its jti is not revoked and its client is enabled — all read from
/// the database on every call, so a revocation on any instance shows at once. A caller sees a token as active only when
/// the token is meant for it (its resource identifier is in aud) or was issued to it; anything else is {"active":false}.
/// </summary>
public static class IntrospectionEndpoint
{
    public static IEndpointRouteBuilder MapIntrospectionEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost(EndpointPaths.Introspection, HandleAsync).DisableAntiforgery().RequireRateLimit(RateLimitScope.TokenEndpoints);
        return app;
    }

    private static readonly OAuthJsonResult Inactive = new(StatusCodes.Status200OK, json => json.WriteBoolean("active", false));

    private static async Task<IResult> HandleAsync(HttpContext context, ClientAuthenticator authenticator, AccessTokenValidator validator,
        GrantStore grants, ClientStore clients, ProtocolOptions protocol)
    {
        var cancellationToken = context.RequestAborted;
        var parameters = await OAuthParameters.ReadAsync(context.Request, cancellationToken);
        if (parameters.NotAForm)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, parameters.FormProblem).ToJson();
        }

        var authentication = await authenticator.AuthenticateAsync(context.Request, parameters, cancellationToken);
        if (authentication.Client is not { } caller)
        {
            return authentication.ErrorResult();
        }

        // §2.1 requires the caller to be authenticated, against token scanning; a public client's client_id proves nothing,
        // which is why discovery lists only the secret-based methods for this endpoint.
        if (!caller.IsConfidential)
        {
            return new OAuthError(OAuthErrors.InvalidClient, "Introspection requires client authentication.", StatusCodes.Status401Unauthorized).ToJson();
        }

        if (!caller.CanIntrospect)
        {
            return new OAuthError(OAuthErrors.UnauthorizedClient, "This client may not introspect tokens.", StatusCodes.Status403Forbidden).ToJson();
        }

        if (parameters.Duplicate is not null || parameters["token"] is not { } token)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, "Send exactly one token parameter.").ToJson();
        }

        // The hint only orders the lookups (§2.1); both kinds are tried.
        var looksLikeJwt = token.AsSpan().Count('.') == 2;
        if (looksLikeJwt)
        {
            return await IntrospectAccessTokenAsync(token, caller, validator, grants, clients, protocol, cancellationToken);
        }

        return await IntrospectRefreshTokenAsync(token, caller, grants, protocol, cancellationToken);
    }

    private static async Task<IResult> IntrospectAccessTokenAsync(string token, ClientDescriptor caller, AccessTokenValidator validator,
        GrantStore grants, ClientStore clients, ProtocolOptions protocol, CancellationToken cancellationToken)
    {
        var validated = await validator.ValidateAsync(token);
        if (validated is null)
        {
            return Inactive;
        }

        var meantForCaller = validated.Audiences.Contains(caller.ResourceIdentifier) || validated.ClientId == caller.ClientId;
        if (!meantForCaller)
        {
            return Inactive;
        }

        var owner = validated.ClientId == caller.ClientId ? caller : await clients.FindAsync(validated.ClientId, cancellationToken);
        if (owner is not { Enabled: true } || !await grants.IsAccessTokenLiveAsync(validated, cancellationToken))
        {
            return Inactive;
        }

        return new OAuthJsonResult(StatusCodes.Status200OK, json =>
        {
            json.WriteBoolean("active", true);
            json.WriteString("iss", protocol.Issuer);
            json.WriteString("sub", validated.Subject);
            json.WriteString("client_id", validated.ClientId);
            if (validated.Scopes.Count > 0)
            {
                json.WriteString("scope", string.Join(' ', validated.Scopes));
            }

            WriteAudiences(json, validated.Audiences);
            json.WriteNumber("exp", validated.ExpiresAt.ToUnixTimeSeconds());
            json.WriteNumber("iat", validated.IssuedAt.ToUnixTimeSeconds());
            json.WriteString("jti", validated.Jti);
            json.WriteString("token_type", "Bearer");
        });
    }

    /// <summary>A refresh token is visible only to the client it was issued to; its status comes from the database.</summary>
    private static async Task<IResult> IntrospectRefreshTokenAsync(string token, ClientDescriptor caller, GrantStore grants,
        ProtocolOptions protocol, CancellationToken cancellationToken)
    {
        var stored = await grants.FindTokenAsync(token, cancellationToken);
        if (stored is null || stored.Type != TokenTypes.RefreshToken || stored.ApplicationId != caller.Id
            || stored.Status != Statuses.Valid || stored.Authorization?.Status != Statuses.Valid || stored.ExpirationDate <= grants.Now)
        {
            return Inactive;
        }

        var payload = GrantPayload.Deserialize(stored.Payload);
        return new OAuthJsonResult(StatusCodes.Status200OK, json =>
        {
            json.WriteBoolean("active", true);
            json.WriteString("iss", protocol.Issuer);
            json.WriteString("sub", stored.Subject);
            json.WriteString("client_id", caller.ClientId);
            json.WriteString("scope", string.Join(' ', payload.Scopes));
            json.WriteNumber("exp", new DateTimeOffset(DateTime.SpecifyKind(stored.ExpirationDate, DateTimeKind.Utc)).ToUnixTimeSeconds());
            json.WriteNumber("iat", new DateTimeOffset(DateTime.SpecifyKind(stored.CreationDate, DateTimeKind.Utc)).ToUnixTimeSeconds());
            // No token_type: §2.2 means an access-token type of RFC 6749 §7.1 (Bearer), which a refresh token has not.
        });
    }

    private static void WriteAudiences(Utf8JsonWriter json, IReadOnlyList<string> audiences)
    {
        if (audiences.Count == 1)
        {
            json.WriteString("aud", audiences[0]);
            return;
        }

        json.WriteStartArray("aud");
        foreach (var audience in audiences)
        {
            json.WriteStringValue(audience);
        }

        json.WriteEndArray();
    }
}
