using IdentityServer.Hosting;

namespace IdentityServer.Tokens;

/// <summary>What an access token is issued for.</summary>
public sealed record AccessTokenRequest(
    string Subject,
    string ClientId,
    IReadOnlyCollection<string> Audiences,
    IReadOnlyCollection<string> Scopes,
    TimeSpan Lifetime,
    long? AuthTime = null,
    string? AuthorizationId = null,
    IReadOnlyCollection<string>? Amr = null,
    string? Acr = null,
    string? ConfirmationKey = null)
{
    /// <summary>The acting party of a delegated token (RFC 8693 §4.1 <c>act</c>), with the chain before it.</summary>
    public ActorClaim? Actor { get; init; }
}

public sealed record IssuedAccessToken(string Value, string Jti, DateTimeOffset ExpiresAt);

/// <summary>What an identity token is issued for (OpenID Connect Core §2).</summary>
public sealed record IdentityTokenRequest(
    string Subject,
    string ClientId,
    TimeSpan Lifetime,
    long? AuthTime,
    string? Nonce,
    string? SessionId,
    string? AccessToken,
    UserClaimSet? Claims,
    IReadOnlyCollection<string>? Amr = null,
    string? Acr = null);

/// <summary>Mints the JWTs this server issues: RFC 9068 access tokens and OpenID Connect identity tokens.</summary>
public sealed class TokenIssuer(JwtWriter writer, ServerOptions protocol, TimeProvider time)
{
    /// <summary>Private claim naming the grant (Authorizations row) a token belongs to, so introspection can check it.</summary>
    public const string AuthorizationIdClaim = "grant_id";
    public const string AccessTokenType = "at+jwt";

    /// <summary>The typ of our ID tokens; access tokens (at+jwt) and logout tokens (logout+jwt) have their own, so none passes for another.</summary>
    public const string IdentityTokenType = "JWT";

    public IssuedAccessToken CreateAccessToken(AccessTokenRequest request)
    {
        var now = time.GetUtcNow();
        var expires = now + request.Lifetime;
        var jti = OpaqueToken.NewId();
        // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti are required; scope when scopes were granted.
        var token = writer.Sign(AccessTokenType, json =>
        {
            json.WriteString("iss", protocol.Issuer);
            json.WriteNumber("exp", expires.ToUnixTimeSeconds());
            WriteAudience(json, request.Audiences);
            json.WriteString("sub", request.Subject);
            json.WriteString("client_id", request.ClientId);
            json.WriteNumber("iat", now.ToUnixTimeSeconds());
            json.WriteString("jti", jti);
            if (request.Scopes.Count > 0)
            {
                json.WriteString("scope", string.Join(' ', request.Scopes));
            }

            if (request.AuthTime is { } authTime)
            {
                json.WriteNumber("auth_time", authTime);
            }

            // RFC 9068 §2.2.1: how the person authenticated, so a resource server (the admin API) can ask for more.
            WriteAuthentication(json, request.Amr, request.Acr);
            if (request.AuthorizationId is { } authorizationId)
            {
                json.WriteString(AuthorizationIdClaim, authorizationId);
            }

            // RFC 9449 §6.1 (RFC 7800 §3.1): a DPoP-bound token names the thumbprint of its key.
            if (request.ConfirmationKey is { } jkt)
            {
                json.WriteStartObject("cnf");
                json.WriteString("jkt", jkt);
                json.WriteEndObject();
            }

            request.Actor?.WriteTo(json);
        });
        return new IssuedAccessToken(token, jti, expires);
    }

    public string CreateIdentityToken(IdentityTokenRequest request)
    {
        var now = time.GetUtcNow();
        return writer.Sign(IdentityTokenType, json =>
        {
            json.WriteString("iss", protocol.Issuer);
            json.WriteString("sub", request.Subject);
            json.WriteString("aud", request.ClientId);
            json.WriteNumber("exp", (now + request.Lifetime).ToUnixTimeSeconds());
            json.WriteNumber("iat", now.ToUnixTimeSeconds());
            if (request.AuthTime is { } authTime)
            {
                json.WriteNumber("auth_time", authTime);
            }

            if (!string.IsNullOrEmpty(request.Nonce))
            {
                json.WriteString("nonce", request.Nonce);
            }

            if (!string.IsNullOrEmpty(request.SessionId))
            {
                json.WriteString("sid", request.SessionId);
            }

            if (request.AccessToken is not null)
            {
                json.WriteString("at_hash", writer.HalfHash(request.AccessToken));
            }

            WriteAuthentication(json, request.Amr, request.Acr);

            request.Claims?.WriteTo(json);
        });
    }

    /// <summary>OpenID Connect Core §2: acr (a string) and amr (an array of RFC 8176 values), when the grant recorded them.</summary>
    private static void WriteAuthentication(System.Text.Json.Utf8JsonWriter json, IReadOnlyCollection<string>? amr, string? acr)
    {
        if (!string.IsNullOrEmpty(acr))
        {
            json.WriteString("acr", acr);
        }

        if (amr is { Count: > 0 })
        {
            json.WriteStartArray("amr");
            foreach (var method in amr)
            {
                json.WriteStringValue(method);
            }

            json.WriteEndArray();
        }
    }

    private static void WriteAudience(System.Text.Json.Utf8JsonWriter json, IReadOnlyCollection<string> audiences)
    {
        if (audiences.Count == 1)
        {
            json.WriteString("aud", audiences.First());
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
