using IdentityServer.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tokens;

/// <summary>An access token whose signature, issuer, type and expiry checked out.</summary>
public sealed record ValidatedAccessToken(
    JsonWebToken Token,
    string Subject,
    string ClientId,
    IReadOnlyList<string> Audiences,
    IReadOnlyList<string> Scopes,
    string Jti,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    string? AuthorizationId,
    string? ConfirmationKey = null);

/// <summary>
/// Validates this server's own access tokens the way a resource server would (signature through the published keys,
/// issuer, RFC 9068 §4 typ at+jwt), with expiry checked against the server's <see cref="TimeProvider"/>.
/// Whether the grant behind the token still stands is <see cref="AccessTokenStatus"/>'s question, not this one's.
/// </summary>
public sealed class AccessTokenValidator
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _parameters;
    private readonly TimeProvider _time;

    public AccessTokenValidator(SigningKeyRing keys, ServerOptions protocol, TimeProvider time)
    {
        _time = time;
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = protocol.Issuer,
            IssuerSigningKeys = keys.VerificationKeys.ToList(),
            ValidTypes = [TokenIssuer.AccessTokenType],
            ValidAlgorithms = keys.Keys.Select(k => k.Algorithm).Distinct().ToList(),
            ValidateAudience = false, // each caller decides which audience it serves
            ValidateLifetime = false, // checked below against the server's clock
            RequireExpirationTime = true,
            RequireSignedTokens = true,
        };
    }

    public async Task<ValidatedAccessToken?> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 8192)
        {
            return null;
        }

        var result = await _handler.ValidateTokenAsync(token, _parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return null;
        }

        if (!jwt.TryGetPayloadValue<long>("exp", out var exp) || !jwt.TryGetPayloadValue<long>("iat", out var iat)
            || !jwt.TryGetPayloadValue<string>("sub", out var subject) || !jwt.TryGetPayloadValue<string>("client_id", out var clientId)
            || !jwt.TryGetPayloadValue<string>("jti", out var jti))
        {
            return null;
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(exp);
        if (expiresAt <= _time.GetUtcNow())
        {
            return null;
        }

        jwt.TryGetPayloadValue<string>("scope", out var scope);
        jwt.TryGetPayloadValue<string>(TokenIssuer.AuthorizationIdClaim, out var authorizationId);
        var scopes = string.IsNullOrEmpty(scope) ? [] : scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new ValidatedAccessToken(jwt, subject, clientId, jwt.Audiences.ToList(), scopes, jti,
            DateTimeOffset.FromUnixTimeSeconds(iat), expiresAt, authorizationId, ConfirmationKey(jwt));
    }

    /// <summary>cnf.jkt of a DPoP-bound token (RFC 9449 §6.1); null for a bearer token.</summary>
    private static string? ConfirmationKey(JsonWebToken jwt) =>
        jwt.TryGetPayloadValue<System.Text.Json.JsonElement>("cnf", out var cnf) && cnf.ValueKind == System.Text.Json.JsonValueKind.Object
            && cnf.TryGetProperty("jkt", out var jkt) && jkt.ValueKind == System.Text.Json.JsonValueKind.String ? jkt.GetString() : null;
}
