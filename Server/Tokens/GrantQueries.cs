using System.Data;
using System.Data.Common;
using System.Globalization;
using IdentityServer.Data;
using Microsoft.Data.SqlClient;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace IdentityServer.Tokens;

/// <summary>
/// The statements of every token request: the reference-token lookup, introspection's liveness check, the redemptions.
/// Plain ADO.NET on the context's connection, through <see cref="RunAsync"/>: EF Core's query and command layers around
/// them were a tenth to a fifth of these requests' CPU. Used by <see cref="GrantStore"/> only.
/// </summary>
internal sealed class GrantQueries(NpgsqlPoolReset poolReset)
{
    /// <summary>
    /// No LIMIT: ReferenceId is unique (IX_Tokens_ReferenceId), so the statement reads one row at most on every provider,
    /// and the same text is valid SQLite, PostgreSQL and T-SQL (SQL Server has no LIMIT). Identifiers in double quotes
    /// are T-SQL too with QUOTED_IDENTIFIER on, as SqlClient connects.
    /// </summary>
    internal const string TokenByReferenceSql = """
        SELECT t."Id", t."ApplicationId", t."AuthorizationId", t."ConcurrencyToken", t."CreationDate", t."ExpirationDate",
            t."Payload", t."RedemptionDate", t."ReferenceId", t."Status", t."Subject", t."Type",
            a."Id", a."ApplicationId", a."ConcurrencyToken", a."CreationDate", a."ExpirationDate", a."Scopes", a."SessionId",
            a."Status", a."Subject", a."Type"
        FROM "Tokens" AS t
        LEFT JOIN "Authorizations" AS a ON t."AuthorizationId" = a."Id"
        WHERE t."ReferenceId" = @reference
        """;

    /// <summary>
    /// A reference token (code, refresh token) by the hash of its value, with its grant; not tracked. Every code
    /// redemption and refresh starts here, so it is plain ADO.NET like the liveness check below: EF Core's query and
    /// command layers were about a tenth of a PostgreSQL rotation's CPU.
    /// </summary>
    public Task<OAuthToken?> TokenByReferenceAsync(IdentityDbContext db, string referenceId, CancellationToken cancellationToken) =>
        RunAsync(db, TokenByReferenceSql, [("reference", referenceId)], ReadTokenAsync, cancellationToken);

    /// <summary>A statement that changes rows, in the context's transaction when one is open; the number of rows changed.</summary>
    public Task<int> ExecuteAsync(IdentityDbContext db, string sql, (string Name, object? Value)[] parameters, CancellationToken cancellationToken) =>
        RunAsync(db, sql, parameters, (command, ct) => command.ExecuteNonQueryAsync(ct), cancellationToken);

    /// <summary>
    /// Statements that must commit together (SQLite and SQL Server, which cannot chain DML in one statement), in a short
    /// transaction of their own on the connection, or in the context's when one is open; the number of rows changed.
    /// The transaction is ADO.NET's, not EF Core's: its wrapper, diagnostics and interceptors were about a twentieth of a
    /// SQLite refresh, and nothing waits for this commit (AfterCommit work belongs to revocations, which use EF Core's).
    /// </summary>
    public async Task<int> ExecuteAtomicallyAsync(IdentityDbContext db, string sql, (string Name, object? Value)[] parameters,
        CancellationToken cancellationToken)
    {
        var database = db.Database;
        if (database.CurrentTransaction is not null)
        {
            return await ExecuteAsync(db, sql, parameters, cancellationToken);
        }

        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = transaction;
            foreach (var (name, value) in parameters)
            {
                AddParameter(command, name, value);
            }

            var changed = await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return changed;
        }
        catch (DbException e)
        {
            poolReset.ClearIfBroken(database.GetDbConnection(), e);
            throw;
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    private static async Task<OAuthToken?> ReadTokenAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new OAuthToken
        {
            Id = reader.GetString(0),
            ApplicationId = reader.GetString(1),
            AuthorizationId = NullableString(reader, 2),
            ConcurrencyToken = reader.GetString(3),
            CreationDate = reader.GetDateTime(4),
            ExpirationDate = reader.GetDateTime(5),
            Payload = NullableString(reader, 6),
            RedemptionDate = reader.IsDBNull(7) ? null : reader.GetDateTime(7),
            ReferenceId = reader.GetString(8),
            Status = reader.GetString(9),
            Subject = reader.GetString(10),
            Type = reader.GetString(11),
            Authorization = reader.IsDBNull(12) ? null : new OAuthAuthorization
            {
                Id = reader.GetString(12),
                ApplicationId = reader.GetString(13),
                ConcurrencyToken = reader.GetString(14),
                CreationDate = reader.GetDateTime(15),
                ExpirationDate = reader.IsDBNull(16) ? null : reader.GetDateTime(16),
                Scopes = reader.GetString(17),
                SessionId = NullableString(reader, 18),
                Status = reader.GetString(19),
                Subject = reader.GetString(20),
                Type = reader.GetString(21),
            },
        };
    }

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    internal const string JtiNotRevoked = """
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM "RevokedAccessTokens" WHERE "Jti" = @jti) THEN 1 ELSE 0 END
        """;

    internal const string GrantLiveAndJtiNotRevoked = """
        SELECT CASE WHEN EXISTS (SELECT 1 FROM "Authorizations" WHERE "Id" = @grant AND "Status" = @valid)
            AND NOT EXISTS (SELECT 1 FROM "RevokedAccessTokens" WHERE "Jti" = @jti) THEN 1 ELSE 0 END
        """;

    /// <summary>
    /// Whether an access token is live: its jti not revoked and, when it belongs to a grant, the grant valid. Every
    /// introspection asks this, so it is one statement in plain ADO.NET on the context's connection: EF Core's command and
    /// query layers around it were about a fifth of an introspection's CPU (A/B pairs: 207-250 -> 176-186 us on SQLite,
    /// 541-575 -> 423-427 us with PostgreSQL's share).
    /// </summary>
    public Task<bool> AccessTokenLiveAsync(IdentityDbContext db, string? authorizationId, string jti, CancellationToken cancellationToken) =>
        authorizationId is null
            ? RunAsync(db, JtiNotRevoked, [("jti", jti)], ReadFlagAsync, cancellationToken)
            : RunAsync(db, GrantLiveAndJtiNotRevoked, [("jti", jti), ("grant", authorizationId), ("valid", Statuses.Valid)], ReadFlagAsync,
                cancellationToken);

    internal const string GrantAndJtiState = """
        SELECT CASE WHEN EXISTS (SELECT 1 FROM "Authorizations" WHERE "Id" = @grant AND "Status" = @valid) THEN 1 ELSE 0 END,
            CASE WHEN EXISTS (SELECT 1 FROM "RevokedAccessTokens" WHERE "Jti" = @jti) THEN 1 ELSE 0 END
        """;

    internal const string JtiRevoked = """
        SELECT CASE WHEN EXISTS (SELECT 1 FROM "RevokedAccessTokens" WHERE "Jti" = @jti) THEN 1 ELSE 0 END
        """;

    /// <summary>
    /// The two facts the revocation cache keeps, apart: whether the grant (when there is one) is valid, whether the jti
    /// is revoked. One statement, like <see cref="AccessTokenLiveAsync"/>; a token without grant reports its grant valid.
    /// </summary>
    public Task<(bool GrantValid, bool JtiRevoked)> AccessTokenStateAsync(IdentityDbContext db, string? authorizationId, string jti,
        CancellationToken cancellationToken) =>
        authorizationId is null
            ? RunAsync(db, JtiRevoked, [("jti", jti)], async (command, ct) => (true, await ReadFlagAsync(command, ct)), cancellationToken)
            : RunAsync(db, GrantAndJtiState, [("jti", jti), ("grant", authorizationId), ("valid", Statuses.Valid)], ReadTwoFlagsAsync,
                cancellationToken);

    private static async Task<(bool, bool)> ReadTwoFlagsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (Flag(reader.GetValue(0)), Flag(reader.GetValue(1)));
    }

    private static bool Flag(object? value) => Convert.ToInt64(value, CultureInfo.InvariantCulture) == 1;

    // PostgreSQL and SQL Server answer an int, SQLite a long.
    private static async Task<bool> ReadFlagAsync(DbCommand command, CancellationToken cancellationToken) =>
        Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 1;

    /// <summary>One statement on the context's connection (opened and closed as EF Core would).</summary>
    private async Task<T> RunAsync<T>(IdentityDbContext db, string sql, (string Name, object? Value)[] parameters,
        Func<DbCommand, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        var database = db.Database;
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = database.GetDbConnection().CreateCommand();
            command.CommandText = sql;
            command.Transaction = database.CurrentTransaction?.GetDbTransaction();
            foreach (var (name, value) in parameters)
            {
                AddParameter(command, name, value);
            }

            return await read(command, cancellationToken);
        }
        catch (DbException e)
        {
            // EF Core's interceptors do not see this command: a dead pool is cleared here as they would clear it.
            poolReset.ClearIfBroken(database.GetDbConnection(), e);
            throw;
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    internal static void AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        if (value is DateTime && parameter is SqlParameter sqlServer)
        {
            // SqlClient sends a DateTime as the old datetime type (1/300 s steps); the columns are datetime2.
            sqlServer.SqlDbType = SqlDbType.DateTime2;
        }

        command.Parameters.Add(parameter);
    }
}
