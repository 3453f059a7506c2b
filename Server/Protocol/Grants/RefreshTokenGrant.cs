using IdentityServer.Clients;
using IdentityServer.Protocol.DPoP;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol.Grants;

/// <summary>
/// grant_type=refresh_token (RFC 6749 §6) with rotation: the request's own checks (scope, resource), then the token
/// lifecycle redeems the presented token and issues its successor of the same family. A redeemed token presented again
/// is reuse (RFC 9700 §4.14.2): the lifecycle revokes the whole family. Of two simultaneous refreshes with one token,
/// the database lets exactly one redeem it; the other is treated as reuse.
/// </summary>
public sealed class RefreshTokenGrant(TokenFamilies families, AudienceResolver audiences, TokenResponseFactory responses, DPoPTokenRequest dpop,
    ILogger<RefreshTokenGrant> logger) : ITokenGrant
{
    public static string GrantType => GrantTypes.RefreshToken;

    public async Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken)
    {
        if (parameters["refresh_token"] is not { } value)
        {
            return Error(OAuthErrors.InvalidRequest, "refresh_token is required.");
        }

        await using var connection = await families.HoldConnectionAsync(cancellationToken);
        var (token, _) = await families.FindRefreshTokenAsync(client, value, cancellationToken);
        if (token is null)
        {
            return InvalidGrant();
        }

        var payload = token.Payload;
        // RFC 9449 §5: a refresh token bound to a DPoP key is used only with a proof of that key.
        if (payload.DpopJkt is { } boundKey && dpop.Proof?.Thumbprint != boundKey)
        {
            logger.LogInformation("Refresh refused: {Reason} (client {ClientId})",
                dpop.Proof is null ? "no DPoP proof for a DPoP-bound refresh token" : "DPoP key does not match the refresh token's", client.ClientId);
            return InvalidGrant();
        }

        IReadOnlyList<string> scopes = payload.Scopes;
        if (parameters["scope"] is { } scope)
        {
            // §6: the scope may be narrowed, never widened.
            var requested = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
            if (requested.Any(s => !payload.Scopes.Contains(s)))
            {
                return Error(OAuthErrors.InvalidScope, "The requested scope exceeds the scope originally granted.");
            }

            scopes = requested;
        }

        var audienceResult = await audiences.ResolveWithinGrantAsync(client, scopes, parameters.All("resource"), payload.Resources, cancellationToken);
        if (audienceResult.Error is not null)
        {
            return Error(OAuthErrors.InvalidTarget, audienceResult.Error);
        }

        // §6: the successor keeps the original scope, whatever this request narrowed its access token to.
        var bindTo = client.IsConfidential ? null : dpop.Proof?.Thumbprint;
        if (await families.RotateRefreshTokenAsync(client, token, cancellationToken, bindTo) is not { } rotated)
        {
            return InvalidGrant();
        }

        return responses.Create(new GrantOutcome(client, token.Subject, scopes, audienceResult.Audiences, token.FamilyId, payload, RefreshToken: rotated,
            ConfirmationKey: dpop.Proof?.Thumbprint));
    }

    private static IResult InvalidGrant() => Error(OAuthErrors.InvalidGrant, "The refresh token is invalid, expired, revoked or already used.");

    private static IResult Error(string error, string description) => new OAuthError(error, description).ToJson();
}
