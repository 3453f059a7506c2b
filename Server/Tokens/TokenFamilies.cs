using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;

namespace IdentityServer.Tokens;

/// <summary>What an authorization code is issued for: one sign-in of one person, answering one authorization request.</summary>
public sealed record CodeIssue(string Subject, string? SessionId, IReadOnlyList<string> Scopes, GrantPayload Payload);

/// <summary>Why a presented code or refresh token was refused. Each refusal has been logged; a replay has revoked its family.</summary>
public enum TokenRefusal
{
    None,
    Unknown,
    IssuedToAnotherClient,
    Replayed,
    Revoked,
    Expired,
}

/// <summary>A code or refresh token presented by the client it was issued to, still valid (or redeemed within the reuse leeway).</summary>
public sealed class PresentedToken
{
    internal PresentedToken(OAuthToken row, GrantPayload payload, TokenLifetimes lifetimes, bool withinReuseLeeway)
    {
        Row = row;
        Payload = payload;
        Lifetimes = lifetimes;
        WithinReuseLeeway = withinReuseLeeway;
    }

    public string Subject => Row.Subject;

    /// <summary>The grant (Authorizations row) this token belongs to: its family.</summary>
    public string FamilyId => Row.AuthorizationId!;

    public GrantPayload Payload { get; }

    internal OAuthToken Row { get; }

    /// <summary>The presenting client's lifetimes, worked out once when the token was found.</summary>
    internal TokenLifetimes Lifetimes { get; }

    internal bool WithinReuseLeeway { get; }
}

/// <summary>The outcome of looking up a presented token: the token, or why it was refused.</summary>
public readonly record struct TokenLookup(PresentedToken? Token, TokenRefusal Refusal);

/// <summary>A refresh token that introspection may report active (RFC 7662 §2.2).</summary>
/// <param name="ConfirmationKey">The DPoP key a public client's refresh token is bound to (RFC 9449 §5), or null.</param>
public sealed record ActiveRefreshToken(string Subject, IReadOnlyList<string> Scopes, DateTime ExpiresAt, DateTime IssuedAt, string? ConfirmationKey = null);

/// <summary>
/// The token lifecycle: a grant (token family) starts with an authorization code, the code is redeemed once for the
/// family's first refresh token, each refresh token is rotated into its successor, and a code or refresh token used
/// twice revokes the whole family (RFC 6749 §4.1.2, RFC 9700 §4.2.4 and §4.14.2). Every state change is one
/// conditional statement in the database (<see cref="GrantStore"/>), so of several requests racing for one token on any
/// number of instances exactly one wins. The protocol's grants only check their parameters and write the response.
/// </summary>
public sealed class TokenFamilies(IdentityDbContext db, TimeProvider time, NpgsqlPoolReset poolReset, RevocationNotices notices, TokenOptions options,
    AuditLog audit, ServerMetrics metrics, ILogger<TokenFamilies> logger)
{
    private readonly GrantStore store = new(db, time, poolReset, notices);

    /// <summary>The two kinds of reference token a client presents, with the names its logs and audit entries use.</summary>
    private sealed record Kind(string Type, string Noun, string ReuseAuditAction, string ReuseLog);

    private static readonly Kind Code = new(TokenTypes.AuthorizationCode, "Code exchange", "authorization_code.replayed",
        "Security: authorization code replayed by client {ClientId}, subject {Subject}; revoking grant {AuthorizationId}");

    private static readonly Kind Refresh = new(TokenTypes.RefreshToken, "Refresh", "refresh_token.reuse_detected",
        "Security: refresh token reuse detected for client {ClientId}, subject {Subject}; revoking family {AuthorizationId}");

    /// <summary>
    /// Keeps the database connection open until disposed: a grant's lookup, its own reads and the redemption then share
    /// one connection instead of opening one each (<see cref="HeldConnection"/>).
    /// </summary>
    public Task<HeldConnection> HoldConnectionAsync(CancellationToken cancellationToken) => HeldConnection.OpenAsync(db.Database, cancellationToken);

    /// <summary>
    /// Starts a new family (an ad-hoc authorization) with its authorization code, both rows together: nothing
    /// half-written. A replayed code or a reused refresh token later revokes exactly this family, nothing else.
    /// Returns the code's opaque value.
    /// </summary>
    public async Task<string> IssueCodeAsync(ClientDescriptor client, CodeIssue issue, CancellationToken cancellationToken)
    {
        var lifetimes = TokenLifetimes.For(client, options);
        var now = store.Now;
        var family = new OAuthAuthorization
        {
            ApplicationId = client.Id,
            Subject = issue.Subject,
            Status = Statuses.Valid,
            Type = AuthorizationTypes.AdHoc,
            Scopes = string.Join(' ', issue.Scopes),
            SessionId = issue.SessionId,
            CreationDate = now,
            ExpirationDate = lifetimes.FamilyEnd(now),
        };
        var (code, value) = store.NewToken(TokenTypes.AuthorizationCode, client.Id, family.Id, issue.Subject, issue.Payload,
            now + lifetimes.AuthorizationCode);
        await store.AddGrantWithTokenAsync(family, code, cancellationToken);
        return value;
    }

    /// <summary>The authorization code presented by <paramref name="client"/>, if it may still be redeemed. A replayed code revokes its family.</summary>
    public Task<TokenLookup> FindCodeAsync(ClientDescriptor client, string value, CancellationToken cancellationToken) =>
        FindAsync(Code, client, value, cancellationToken);

    /// <summary>The refresh token presented by <paramref name="client"/>, if it may still be used. A reused one revokes its family.</summary>
    public Task<TokenLookup> FindRefreshTokenAsync(ClientDescriptor client, string value, CancellationToken cancellationToken) =>
        FindAsync(Refresh, client, value, cancellationToken);

    private async Task<TokenLookup> FindAsync(Kind kind, ClientDescriptor client, string value, CancellationToken cancellationToken)
    {
        var token = await store.FindTokenAsync(value, cancellationToken);
        if (token is null || token.Type != kind.Type)
        {
            return Refuse(kind, TokenRefusal.Unknown, "unknown token", client);
        }

        if (token.ApplicationId != client.Id)
        {
            // RFC 6749 §4.1.3 and §6: bound to the client it was issued to. Not treated as replay: another client holding
            // it proves nothing about the family, and the rightful client may still use it.
            return Refuse(kind, TokenRefusal.IssuedToAnotherClient, "issued to another client", client);
        }

        var now = store.Now;
        var lifetimes = TokenLifetimes.For(client, options);
        var withinLeeway = kind == Refresh && lifetimes.WithinReuseLeeway(token, now);
        if (token.Status == Statuses.Redeemed && !withinLeeway)
        {
            await RevokeReusedAsync(kind, token, client);
            return new TokenLookup(null, TokenRefusal.Replayed);
        }

        if (token.Status is not (Statuses.Valid or Statuses.Redeemed) || token.Authorization?.Status != Statuses.Valid)
        {
            return Refuse(kind, TokenRefusal.Revoked, "token or its family revoked", client);
        }

        if (token.ExpirationDate <= now || token.Authorization.ExpirationDate <= now)
        {
            return Refuse(kind, TokenRefusal.Expired, "token expired", client);
        }

        return new TokenLookup(new PresentedToken(token, GrantPayload.Deserialize(token.Payload), lifetimes, withinLeeway), TokenRefusal.None);
    }

    /// <summary>
    /// Redeems a code found by <see cref="FindCodeAsync"/> and, when asked, stores the family's first refresh token,
    /// atomically. Returns the refresh token's value ("" when none was asked for), or null when another request
    /// redeemed the code first: that is a replay, and the family has been revoked. A refresh token bound to a DPoP key
    /// (<paramref name="refreshTokenKey"/>, RFC 9449 §5) can only be used with proofs of that key.
    /// </summary>
    public async Task<string?> RedeemCodeAsync(ClientDescriptor client, PresentedToken code, bool issueRefreshToken, CancellationToken cancellationToken,
        string? refreshTokenKey = null)
    {
        (OAuthToken Row, string Value)? refreshToken = null;
        if (issueRefreshToken)
        {
            var now = store.Now;
            var lifetimes = code.Lifetimes;
            var expires = lifetimes.RefreshTokenExpiry(now, code.Row.Authorization!.ExpirationDate ?? lifetimes.FamilyEnd(now));
            var payload = RefreshPayload(code.Payload);
            payload.DpopJkt = refreshTokenKey;
            refreshToken = store.NewToken(TokenTypes.RefreshToken, client.Id, code.FamilyId, code.Subject, payload, expires);
        }

        if (!await store.TryRedeemAsync(code.Row.Id, refreshToken?.Row, cancellationToken))
        {
            await RevokeReusedAsync(Code, code.Row, client);
            return null;
        }

        return refreshToken?.Value ?? "";
    }

    /// <summary>
    /// Rotates a refresh token found by <see cref="FindRefreshTokenAsync"/>: redeems it and stores its successor of the
    /// same family and scope (RFC 6749 §6), atomically. Returns the successor's value, or null when another request
    /// redeemed the token first and the reuse leeway does not cover it: the family has then been revoked. The successor
    /// keeps the token's DPoP binding; an unbound token's successor is bound to <paramref name="bindTo"/> when given
    /// (RFC 9449 §5: a public client that presents a proof gets a bound refresh token).
    /// </summary>
    public async Task<string?> RotateRefreshTokenAsync(ClientDescriptor client, PresentedToken token, CancellationToken cancellationToken,
        string? bindTo = null)
    {
        var lifetimes = token.Lifetimes;
        var payload = token.Payload;
        if (bindTo is not null && payload.DpopJkt is null)
        {
            payload = GrantPayload.Deserialize(payload.Serialize());
            payload.DpopJkt = bindTo;
        }

        var rotated = await RotateAsync(token.Row, client, payload, lifetimes, redeem: !token.WithinReuseLeeway, cancellationToken);
        if (rotated is not null)
        {
            return rotated;
        }

        // Lost the race: another request redeemed the token since it was read. Without a leeway that is reuse. With one,
        // it is the very case the leeway tolerates (several requests refreshing at once), as a retry a moment later is.
        var current = await store.FindTokenByReferenceAsync(token.Row.ReferenceId, cancellationToken);
        if (current is null || !lifetimes.WithinReuseLeeway(current, store.Now) || current.Authorization?.Status != Statuses.Valid)
        {
            await RevokeReusedAsync(Refresh, token.Row, client);
            return null;
        }

        return await RotateAsync(current, client, payload, lifetimes, redeem: false, cancellationToken);
    }

    private async Task<string?> RotateAsync(OAuthToken token, ClientDescriptor client, GrantPayload payload, TokenLifetimes lifetimes,
        bool redeem, CancellationToken cancellationToken)
    {
        var expires = lifetimes.RefreshTokenExpiry(store.Now, token.Authorization!.ExpirationDate);
        var (successor, value) = store.NewToken(TokenTypes.RefreshToken, client.Id, token.AuthorizationId, token.Subject, payload, expires);
        if (!redeem)
        {
            // Within the reuse leeway: the presented token stays redeemed, a further successor joins the family.
            await store.InsertTokenAsync(successor, cancellationToken);
            return value;
        }

        return await store.TryRedeemAsync(token.Id, successor, cancellationToken) ? value : null;
    }

    /// <summary>The refresh tokens of a family carry what the code granted, without the authorization request's own fields.</summary>
    private static GrantPayload RefreshPayload(GrantPayload code) => new()
    {
        Scopes = code.Scopes,
        Resources = code.Resources,
        AuthTime = code.AuthTime,
        SessionId = code.SessionId,
        Amr = code.Amr,
        Acr = code.Acr,
        Claims = code.Claims,
    };

    /// <summary>
    /// A refresh token of <paramref name="client"/> that introspection may call active: valid, its family valid, not
    /// expired. Another client's token, or any other kind, is null.
    /// </summary>
    public async Task<ActiveRefreshToken?> FindActiveRefreshTokenAsync(ClientDescriptor client, string value, CancellationToken cancellationToken)
    {
        var stored = await store.FindTokenAsync(value, cancellationToken);
        if (stored is null || stored.Type != TokenTypes.RefreshToken || stored.ApplicationId != client.Id
            || stored.Status != Statuses.Valid || stored.Authorization?.Status != Statuses.Valid || stored.ExpirationDate <= store.Now)
        {
            return null;
        }

        var payload = GrantPayload.Deserialize(stored.Payload);
        return new ActiveRefreshToken(stored.Subject, payload.Scopes, stored.ExpirationDate, stored.CreationDate, payload.DpopJkt);
    }

    /// <summary>
    /// Revokes the family of a refresh token that <paramref name="client"/> holds (RFC 7009 §2.1). Returns the family's
    /// subject and id when it did; null for anything else, which the caller must not reveal (§2.2).
    /// </summary>
    public async Task<(string Subject, string FamilyId)?> RevokeRefreshTokenFamilyAsync(ClientDescriptor client, string value,
        CancellationToken cancellationToken)
    {
        var stored = await store.FindTokenAsync(value, cancellationToken);
        if (stored is not { Type: TokenTypes.RefreshToken, AuthorizationId: { } familyId } || stored.ApplicationId != client.Id)
        {
            return null;
        }

        await store.RevokeAuthorizationsAsync(a => a.Id == familyId, cancellationToken);
        return (stored.Subject, familyId);
    }

    /// <summary>Revokes one grant and every token of it.</summary>
    public Task<int> RevokeFamilyAsync(string authorizationId, CancellationToken cancellationToken) =>
        store.RevokeAuthorizationsAsync(a => a.Id == authorizationId, cancellationToken);

    /// <summary>Revokes every grant of a person (sign out everywhere).</summary>
    public Task<int> RevokeSubjectAsync(string subject, CancellationToken cancellationToken) =>
        store.RevokeAuthorizationsAsync(a => a.Subject == subject, cancellationToken);

    /// <summary>Revokes every grant of one client, optionally only one person's.</summary>
    public Task<int> RevokeClientAsync(string applicationId, string? subject, CancellationToken cancellationToken) =>
        store.RevokeAuthorizationsAsync(a => a.ApplicationId == applicationId && (subject == null || a.Subject == subject), cancellationToken);

    /// <summary>Revokes the grants created in one sign-in session, optionally only one client's (RP-initiated logout).</summary>
    public Task<int> RevokeSessionAsync(string sessionId, string? applicationId, CancellationToken cancellationToken) =>
        store.RevokeAuthorizationsAsync(a => a.SessionId == sessionId && a.Type == AuthorizationTypes.AdHoc
            && (applicationId == null || a.ApplicationId == applicationId), cancellationToken);

    /// <summary>
    /// A code or refresh token used again (RFC 6749 §4.1.2, RFC 9700 §4.2.4 and §4.14.2): a copy may be in someone
    /// else's hands, and the server cannot tell the thief from the client, so the whole family is revoked.
    /// </summary>
    private async Task RevokeReusedAsync(Kind kind, OAuthToken token, ClientDescriptor client)
    {
#pragma warning disable CA2254 // the two templates are constants of this class
        logger.LogWarning(kind.ReuseLog, client.ClientId, token.Subject, token.AuthorizationId);
#pragma warning restore CA2254
        metrics.ReuseDetected(kind.Type, client.ClientId);
        if (token.AuthorizationId is { } familyId)
        {
            // Not cancelled with the request: a client hanging up must not leave a stolen family alive.
            await store.RevokeAuthorizationsAsync(a => a.Id == familyId, CancellationToken.None);
        }

        await audit.RecordTokenEventAsync(client.ClientId, kind.ReuseAuditAction, AuditOutcomes.Failure, "grant:" + token.AuthorizationId,
            kind == Code
                ? new { token.Subject, GrantRevoked = token.AuthorizationId is not null }
                : new { token.Subject, FamilyRevoked = token.AuthorizationId is not null });
    }

    private TokenLookup Refuse(Kind kind, TokenRefusal refusal, string reason, ClientDescriptor client)
    {
        logger.LogInformation("{Kind} refused: {Reason} (client {ClientId})", kind.Noun, reason, client.ClientId);
        return new TokenLookup(null, refusal);
    }
}
