using System.Linq.Expressions;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace IdentityServer.Tokens;

/// <summary>
/// The rows behind <see cref="TokenFamilies"/> and <see cref="AccessTokenStatus"/>: authorizations (grants, token
/// families) and reference tokens, with the status transitions that must be atomic across server instances. State
/// changes are single conditional statements (UPDATE ... WHERE Status = 'valid'), so the database decides races, not a
/// lock in one process. Only those two services use it.
/// </summary>
/// <param name="notices">Where revocations are announced and the revocation cache read; null: no cache (tests of the SQL).</param>
internal sealed class GrantStore(IdentityDbContext db, TimeProvider time, NpgsqlPoolReset poolReset, RevocationNotices? notices = null)
{
    private readonly GrantQueries queries = new(poolReset);

    public DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>A new reference token (not yet stored) and its opaque value; only the value's hash is kept.</summary>
    public (OAuthToken Token, string Value) NewToken(string type, string applicationId, string? authorizationId, string subject,
        GrantPayload payload, DateTime expiresAt)
    {
        var (value, hash) = OpaqueToken.Create();
        var token = new OAuthToken
        {
            ApplicationId = applicationId,
            AuthorizationId = authorizationId,
            Subject = subject,
            Type = type,
            Status = Statuses.Valid,
            ReferenceId = hash,
            Payload = payload.Serialize(),
            CreationDate = Now,
            ExpirationDate = expiresAt,
        };
        return (token, value);
    }

    /// <summary>
    /// Stores a new grant (token family) and the first token of it (an authorization code) together: nothing
    /// half-written. Plain SQL, like the redemption below: this runs on every authorization. On PostgreSQL one statement
    /// (the grant's INSERT in a CTE), atomic by itself, so no BEGIN and COMMIT round trips; the foreign key is checked at
    /// the end of the statement. On SQLite and SQL Server both statements in one command and one short transaction.
    /// </summary>
    public async Task AddGrantWithTokenAsync(OAuthAuthorization grant, OAuthToken token, CancellationToken cancellationToken)
    {
        (string, object?)[] parameters = [("a_id", grant.Id), ("a_application", grant.ApplicationId), ("a_stamp", grant.ConcurrencyToken),
            ("a_created", grant.CreationDate), ("a_expires", grant.ExpirationDate), ("a_scopes", grant.Scopes), ("a_session", grant.SessionId),
            ("a_status", grant.Status), ("a_subject", grant.Subject), ("a_type", grant.Type), .. TokenParameters(token)];
        if (db.Database.IsPostgres())
        {
            await queries.ExecuteAsync(db, PostgresGrantAndTokenSql, parameters, cancellationToken);
            return;
        }

        await queries.ExecuteAtomicallyAsync(db, BatchedGrantAndTokenSql, parameters, cancellationToken);
    }

    internal const string InsertGrantSql = """
        INSERT INTO "Authorizations" ("Id", "ApplicationId", "ConcurrencyToken", "CreationDate", "ExpirationDate", "Scopes",
            "SessionId", "Status", "Subject", "Type")
        VALUES (@a_id, @a_application, @a_stamp, @a_created, @a_expires, @a_scopes, @a_session, @a_status, @a_subject, @a_type)
        """;

    internal const string PostgresGrantAndTokenSql = "WITH new_grant AS (" + InsertGrantSql + ")\n" + InsertTokenSql;

    /// <summary>Two statements in one command: SQLite and SQL Server.</summary>
    internal const string BatchedGrantAndTokenSql = InsertGrantSql + ";\n" + InsertTokenSql;

    /// <summary>Finds a reference token by its opaque value; malformed values are never looked up.</summary>
    public async Task<OAuthToken?> FindTokenAsync(string? value, CancellationToken cancellationToken)
    {
        if (!OpaqueToken.IsWellFormed(value))
        {
            return null;
        }

        return await queries.TokenByReferenceAsync(db, OpaqueToken.Hash(value!), cancellationToken);
    }

    /// <summary>Finds a reference token by the hash of its value (a token read before, read again).</summary>
    public Task<OAuthToken?> FindTokenByReferenceAsync(string referenceId, CancellationToken cancellationToken) =>
        queries.TokenByReferenceAsync(db, referenceId, cancellationToken);

    /// <summary>Stores one more token of a family, outside any redemption (a successor within the reuse leeway).</summary>
    public Task InsertTokenAsync(OAuthToken token, CancellationToken cancellationToken) =>
        queries.ExecuteAsync(db, InsertTokenSql, TokenParameters(token), cancellationToken);

    /// <summary>
    /// Marks a valid token redeemed and, when given, stores its successor (a code's first refresh token, a rotated
    /// refresh token), atomically: the successor exists if and only if this call redeemed the token, so of several
    /// callers racing for one token exactly one wins. One statement where the database allows it (PostgreSQL: the
    /// UPDATE in a CTE feeding the INSERT; one round trip, no explicit transaction); on SQLite, which has no DML in a
    /// CTE, and on SQL Server both statements in one command and one short transaction, the INSERT conditional on the
    /// UPDATE's row count. Plain SQL rather than change tracking: this runs on every code redemption and refresh, and
    /// the database, not a read made earlier, decides the race.
    /// </summary>
    public async Task<bool> TryRedeemAsync(string tokenId, OAuthToken? successor, CancellationToken cancellationToken)
    {
        (string, object?)[] redemption = [("redeemed", Statuses.Redeemed), ("now", Now), ("stamp", Guid.NewGuid().ToString("N")),
            ("id", tokenId), ("valid", Statuses.Valid)];
        if (successor is null)
        {
            return await queries.ExecuteAsync(db, RedeemSql, redemption, cancellationToken) == 1;
        }

        ArgumentNullException.ThrowIfNull(successor.AuthorizationId); // a successor always belongs to a family
        (string, object?)[] parameters = [.. redemption, .. TokenParameters(successor)];
        if (db.Database.IsPostgres())
        {
            return await queries.ExecuteAsync(db, PostgresRedeemAndInsertSql, parameters, cancellationToken) == 1;
        }

        return await queries.ExecuteAtomicallyAsync(db, BatchedRedeemAndInsertSql(db.Database), parameters, cancellationToken) == 2;
    }

    internal const string RedeemSql = """
        UPDATE "Tokens" SET "Status" = @redeemed, "RedemptionDate" = @now, "ConcurrencyToken" = @stamp
        WHERE "Id" = @id AND "Status" = @valid
        """;

    /// <summary>One new token, as a SELECT so that a redemption can make it conditional (FROM / WHERE appended).</summary>
    internal const string InsertTokenSql = """
        INSERT INTO "Tokens" ("Id", "ApplicationId", "AuthorizationId", "ConcurrencyToken", "CreationDate", "ExpirationDate",
            "Payload", "RedemptionDate", "ReferenceId", "Status", "Subject", "Type")
        SELECT @t_id, @t_application, @t_grant, @t_stamp, @t_created, @t_expires, @t_payload, NULL, @t_reference, @t_status, @t_subject, @t_type
        """;

    internal const string PostgresRedeemAndInsertSql = "WITH redeemed AS (" + RedeemSql + " RETURNING 1)\n" + InsertTokenSql + " FROM redeemed";

    internal const string SqliteRedeemAndInsertSql = RedeemSql + ";\n" + InsertTokenSql + " WHERE changes() = 1";

    /// <summary>@@ROWCOUNT is SQL Server's changes(): the rows the UPDATE just before changed.</summary>
    internal const string SqlServerRedeemAndInsertSql = RedeemSql + ";\n" + InsertTokenSql + " WHERE @@ROWCOUNT = 1";

    /// <summary>The two-statement redemption (outside PostgreSQL) in the provider's words; it changes 2 rows when it wins.</summary>
    internal static string BatchedRedeemAndInsertSql(DatabaseFacade database) =>
        database.IsMsSqlServer() ? SqlServerRedeemAndInsertSql : SqliteRedeemAndInsertSql;

    private static (string, object?)[] TokenParameters(OAuthToken t) =>
    [
        ("t_id", t.Id), ("t_application", t.ApplicationId), ("t_grant", t.AuthorizationId), ("t_stamp", t.ConcurrencyToken),
        ("t_created", t.CreationDate), ("t_expires", t.ExpirationDate), ("t_payload", t.Payload), ("t_reference", t.ReferenceId),
        ("t_status", t.Status), ("t_subject", t.Subject), ("t_type", t.Type),
    ];

    /// <summary>Revokes the valid grants that <paramref name="which"/> selects, and every token of them.</summary>
    public Task<int> RevokeAuthorizationsAsync(Expression<Func<OAuthAuthorization, bool>> which, CancellationToken cancellationToken) =>
        RevokeAsync(db.Authorizations.Where(which), cancellationToken);

    private async Task<int> RevokeAsync(IQueryable<OAuthAuthorization> authorizations, CancellationToken cancellationToken)
    {
        // One transaction (or the caller's, when it already holds one): a connection lost between the two statements
        // must not leave the tokens revoked but their grant valid, which introspection would still call active.
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        var ids = authorizations.Where(a => a.Status == Statuses.Valid).Select(a => a.Id);
        var idList = await ids.ToListAsync(cancellationToken);
        if (idList.Count == 0)
        {
            return 0;
        }

        // Tokens first, then their grants; each statement is idempotent, so a retry or a concurrent revoke is harmless.
        await db.Tokens
            .Where(t => t.AuthorizationId != null && idList.Contains(t.AuthorizationId) && t.Status != Statuses.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, Statuses.Revoked), cancellationToken);
        var revoked = await db.Authorizations
            .Where(a => idList.Contains(a.Id) && a.Status == Statuses.Valid)
            .ExecuteUpdateAsync(s => s
                .SetProperty(a => a.Status, Statuses.Revoked)
                .SetProperty(a => a.ConcurrencyToken, Guid.NewGuid().ToString("N")), cancellationToken);
        if (notices is not null)
        {
            // In the same transaction: every instance drops these grants from its cache when, and only if, this commits.
            await notices.GrantsChangedAsync(idList, cancellationToken);
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        return revoked;
    }

    /// <summary>Revokes one JWT access token until it expires (RFC 7009 §2): its jti is remembered, then pruned.</summary>
    public async Task RevokeAccessTokenAsync(string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        if (await db.RevokedAccessTokens.AnyAsync(r => r.Jti == jti, cancellationToken))
        {
            return;
        }

        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        db.RevokedAccessTokens.Add(new RevokedAccessToken { Jti = jti, ExpirationDate = expiresAt.UtcDateTime });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent revocation of the same token got there first (and announced it): the end state is the same.
            db.ChangeTracker.Clear();
            return;
        }

        if (notices is not null)
        {
            await notices.AccessTokenRevokedAsync(jti, cancellationToken);
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Whether an access token that validated cryptographically is still live: its jti not revoked and its grant
    /// (when it has one) still valid. From the <see cref="RevocationCache"/> when it can answer and may be trusted;
    /// otherwise one indexed query, whose answer the cache keeps.
    /// </summary>
    public async Task<bool> IsAccessTokenLiveAsync(ValidatedAccessToken token, CancellationToken cancellationToken)
    {
        var cache = notices?.Cache;
        if (cache is null || cache.Mode == RevocationCacheMode.Off)
        {
            return await queries.AccessTokenLiveAsync(db, token.AuthorizationId, token.Jti, cancellationToken);
        }

        if (cache.TryGetLive(token.AuthorizationId, token.Jti, out var live, out var generation))
        {
            return live;
        }

        var (grantValid, jtiRevoked) = await queries.AccessTokenStateAsync(db, token.AuthorizationId, token.Jti, cancellationToken);
        cache.Remember(token.AuthorizationId, grantValid, token.Jti, jtiRevoked, generation);
        return grantValid && !jtiRevoked;
    }
}
