using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol.Grants;

/// <summary>
/// grant_type=refresh_token (RFC 6749 §6) with rotation: the presented token is redeemed and a new one of the same
/// family is issued. A redeemed token presented again is reuse (RFC 9700 §4.14.2): the whole family is revoked. Of two
/// simultaneous refreshes with one token, the database lets exactly one redeem it; the other is treated as reuse.
/// </summary>
public sealed class RefreshTokenGrant(
    GrantStore grants,
    TokenOptions options,
    AudienceResolver audiences,
    TokenResponseFactory responses,
    ILogger<RefreshTokenGrant> logger,
    AuditLog audit) : ITokenGrant
{
    public async Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken)
    {
        var value = parameters["refresh_token"];
        if (value is null)
        {
            return Error(OAuthErrors.InvalidRequest, "refresh_token is required.");
        }

        var token = await grants.FindTokenAsync(value, cancellationToken);
        if (token is null || token.Type != TokenTypes.RefreshToken)
        {
            return InvalidGrant("unknown refresh token", client);
        }

        if (token.ApplicationId != client.Id)
        {
            // §6: bound to the client it was issued to. Another client holding it proves nothing about the family.
            return InvalidGrant("refresh token issued to another client", client);
        }

        var lifetimes = TokenLifetimes.For(client, options);
        var now = grants.Now;
        var withinLeeway = WithinLeeway(token, lifetimes, now);
        if (token.Status == Statuses.Redeemed && !withinLeeway)
        {
            return await ReuseAsync(token, client, cancellationToken);
        }

        var family = token.Authorization;
        if (token.Status is not (Statuses.Valid or Statuses.Redeemed) || family?.Status != Statuses.Valid)
        {
            return InvalidGrant("refresh token or its family revoked", client);
        }

        if (token.ExpirationDate <= now || family.ExpirationDate <= now)
        {
            return InvalidGrant("refresh token expired", client);
        }

        var payload = GrantPayload.Deserialize(token.Payload);
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

        var resources = parameters.All("resource");
        if (resources.Count > 0 && payload.Resources.Length > 0 && resources.Any(r => !payload.Resources.Contains(r)))
        {
            return Error(OAuthErrors.InvalidTarget, "The resource was not part of the original grant.");
        }

        var audienceResult = await audiences.ResolveAsync(client, scopes, resources.Count > 0 ? resources : payload.Resources, cancellationToken);
        if (audienceResult.Error is not null)
        {
            return Error(OAuthErrors.InvalidTarget, audienceResult.Error);
        }

        var rotated = await RotateAsync(token, family, client, payload, lifetimes, redeem: !withinLeeway, cancellationToken);
        if (rotated is null)
        {
            // Lost the race: another request redeemed the token since we read it. Without a leeway that is reuse. With one,
            // it is the very case the leeway tolerates (several requests refreshing at once), as a retry a moment later is.
            var current = await grants.FindTokenAsync(value, cancellationToken);
            if (current is null || !WithinLeeway(current, lifetimes, grants.Now) || current.Authorization?.Status != Statuses.Valid)
            {
                return await ReuseAsync(token, client, cancellationToken);
            }

            rotated = await RotateAsync(current, family, client, payload, lifetimes, redeem: false, cancellationToken);
        }

        return responses.Create(new GrantOutcome(client, token.Subject, scopes, audienceResult.Audiences, family.Id, payload, RefreshToken: rotated));
    }

    /// <summary>Redeems the presented token and stores its successor, atomically. Null when another request redeemed it first.</summary>
    private async Task<string?> RotateAsync(OAuthToken token, OAuthAuthorization family, ClientDescriptor client, GrantPayload payload,
        TokenLifetimes lifetimes, bool redeem, CancellationToken cancellationToken)
    {
        // Sliding expiry from this use, never past the family's absolute end. The successor keeps the original scope (§6).
        var expires = grants.Now + lifetimes.RefreshTokenSliding;
        if (family.ExpirationDate is { } familyEnd && familyEnd < expires)
        {
            expires = familyEnd;
        }

        if (!redeem)
        {
            // Within the reuse leeway: the presented token stays redeemed, a further successor joins the family.
            var value = grants.AddToken(TokenTypes.RefreshToken, client.Id, family.Id, token.Subject, payload, expires);
            await grants.Database.SaveChangesAsync(cancellationToken);
            return value;
        }

        var successor = grants.NewToken(TokenTypes.RefreshToken, client.Id, family.Id, token.Subject, payload, expires);
        return await grants.TryRedeemAsync(token.Id, successor.Token, cancellationToken) ? successor.Value : null;
    }

    /// <summary>A token redeemed so recently that presenting it again is tolerated (Tokens:RefreshTokenReuseLeeway, default 0: never).</summary>
    private static bool WithinLeeway(OAuthToken token, TokenLifetimes lifetimes, DateTime now) =>
        token.Status == Statuses.Redeemed && lifetimes.RefreshTokenReuseLeeway > TimeSpan.Zero
        && token.RedemptionDate + lifetimes.RefreshTokenReuseLeeway > now;

    private async Task<IResult> ReuseAsync(OAuthToken token, ClientDescriptor client, CancellationToken cancellationToken)
    {
        logger.LogWarning("Security: refresh token reuse detected for client {ClientId}, subject {Subject}; revoking family {AuthorizationId}",
            client.ClientId, token.Subject, token.AuthorizationId);
        if (token.AuthorizationId is not null)
        {
            await grants.RevokeAuthorizationAsync(token.AuthorizationId, cancellationToken);
        }

        await audit.RecordAsync(new AuditEvent(AuditKinds.Token, "refresh_token.reuse_detected", AuditOutcomes.Failure,
            AuditLog.ClientActor(client.ClientId), "grant:" + token.AuthorizationId)
        {
            ClientId = client.ClientId,
            Details = new { token.Subject, FamilyRevoked = token.AuthorizationId is not null },
        });
        return Error(OAuthErrors.InvalidGrant, "The refresh token is invalid, expired, revoked or already used.");
    }

    private IResult InvalidGrant(string reason, ClientDescriptor client)
    {
        logger.LogInformation("Refresh refused: {Reason} (client {ClientId})", reason, client.ClientId);
        return Error(OAuthErrors.InvalidGrant, "The refresh token is invalid, expired, revoked or already used.");
    }

    private static IResult Error(string error, string description) => new OAuthError(error, description).ToJson();
}
