using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Hosting;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol;

/// <summary>
/// Token introspection (RFC 7662) for resource servers that need the truth now: a JWT access token is active only while
/// its signature and expiry hold, its grant is valid, its jti is not revoked and its client is enabled. Grant and jti
/// come from the revocation cache, which every revocation on any instance invalidates within milliseconds (PostgreSQL
/// NOTIFY; the database answers while an instance is not subscribed), or from the database. A caller sees a token as active only when
/// the token is meant for it (its resource identifier is in aud) or was issued to it; anything else is {"active":false}.
/// </summary>
public static class IntrospectionEndpoint
{
    public static IEndpointRouteBuilder MapIntrospectionEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost(EndpointPaths.Introspection, HandleAsync).RequireClientAuthentication()
            .DisableAntiforgery().RequireRateLimit(RateLimitScope.TokenEndpoints);
        return app;
    }

    private static readonly OAuthJsonResult Inactive = new(StatusCodes.Status200OK, json => json.WriteBoolean("active", false));

    private static async Task<IResult> HandleAsync(ClientRequest request, AccessTokenValidator validator, AccessTokenStatus status,
        TokenFamilies families, ServerOptions server, ServerMetrics metrics)
    {
        var caller = request.Client;
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

        if (request.Parameters["token"] is not { } token)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, "Send exactly one token parameter.").ToJson();
        }

        // The hint only orders the lookups (§2.1): a JWT can only be an access token and an opaque value only a refresh token.
        var looksLikeJwt = token.AsSpan().Count('.') == 2;
        var result = looksLikeJwt
            ? await IntrospectAccessTokenAsync(token, caller, validator, status, server, request.Aborted)
            : await IntrospectRefreshTokenAsync(token, caller, families, server, request.Aborted);
        metrics.Introspected(looksLikeJwt ? "access_token" : "refresh_token", active: !ReferenceEquals(result, Inactive));
        return result;
    }

    private static async Task<IResult> IntrospectAccessTokenAsync(string token, ClientDescriptor caller, AccessTokenValidator validator,
        AccessTokenStatus status, ServerOptions server, CancellationToken cancellationToken)
    {
        var validated = await validator.ValidateAsync(token);
        if (validated is null)
        {
            return Inactive;
        }

        var meantForCaller = validated.Audiences.Contains(caller.ResourceIdentifier) || validated.ClientId == caller.ClientId;
        var owner = validated.ClientId == caller.ClientId ? caller : null;
        if (!meantForCaller || !await status.IsLiveAsync(validated, cancellationToken, owner))
        {
            return Inactive;
        }

        return new OAuthJsonResult(StatusCodes.Status200OK, json =>
        {
            json.WriteBoolean("active", true);
            json.WriteString("iss", server.Issuer);
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
            // RFC 9449 §6.2: a DPoP-bound token's key thumbprint, so the resource server can check the proof against it.
            if (validated.ConfirmationKey is { } jkt)
            {
                json.WriteStartObject("cnf");
                json.WriteString("jkt", jkt);
                json.WriteEndObject();
            }

            json.WriteString("token_type", validated.ConfirmationKey is null ? "Bearer" : "DPoP");
        });
    }

    /// <summary>A refresh token is visible only to the client it was issued to; its status comes from the database.</summary>
    private static async Task<IResult> IntrospectRefreshTokenAsync(string token, ClientDescriptor caller, TokenFamilies families,
        ServerOptions server, CancellationToken cancellationToken)
    {
        if (await families.FindActiveRefreshTokenAsync(caller, token, cancellationToken) is not { } active)
        {
            return Inactive;
        }

        return new OAuthJsonResult(StatusCodes.Status200OK, json =>
        {
            json.WriteBoolean("active", true);
            json.WriteString("iss", server.Issuer);
            json.WriteString("sub", active.Subject);
            json.WriteString("client_id", caller.ClientId);
            json.WriteString("scope", string.Join(' ', active.Scopes));
            json.WriteNumber("exp", new DateTimeOffset(DateTime.SpecifyKind(active.ExpiresAt, DateTimeKind.Utc)).ToUnixTimeSeconds());
            json.WriteNumber("iat", new DateTimeOffset(DateTime.SpecifyKind(active.IssuedAt, DateTimeKind.Utc)).ToUnixTimeSeconds());
            if (active.ConfirmationKey is { } jkt)
            {
                // RFC 9449 §5: the key this public client's refresh token is bound to.
                json.WriteStartObject("cnf");
                json.WriteString("jkt", jkt);
                json.WriteEndObject();
            }

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
