using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Npgsql.EntityFrameworkCore.PostgreSQL;

namespace IdentityServer.Data;

/// <summary>
/// Retries for database work that may safely run twice: reads, and writes that set absolute values (a second run ends
/// in the same state as one). It is EF Core's execution strategy, but only where a caller asks for it, never as the
/// context's default: a retried code redemption or refresh rotation whose first attempt did commit (the
/// acknowledgement lost with the connection) would find its token already redeemed and take the retry for reuse,
/// revoking the family the client was just given. Those answer 503 instead, and the client decides to retry.
/// </summary>
public static class IdempotentRetry
{
    /// <summary>
    /// Two retries: the first at once (the usual failure is one dead pooled connection after a database restart, and a
    /// fresh connection succeeds), the second after about a second. While the database is really down a request gives
    /// up within about a second and answers 503; a longer wait would only hold the request.
    /// </summary>
    private const int MaxRetries = 2;

    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The provider's retrying strategy, which knows its transient errors: on PostgreSQL Npgsql's (a lost connection,
    /// 57P01 and friends), on SQL Server EF's SqlServerTransientExceptionDetector (a lost connection, deadlock victim
    /// 1205, Azure SQL's throttling and failover numbers). SQLite (a local file, no connection to lose) runs the
    /// operation once.
    /// </summary>
    public static IExecutionStrategy For(DbContext db) =>
        db.Database.IsPostgres() ? new NpgsqlRetryingExecutionStrategy(db, MaxRetries, MaxDelay, errorCodesToAdd: null)
        : db.Database.IsMsSqlServer() ? new SqlServerRetryingExecutionStrategy(db, MaxRetries, MaxDelay, errorNumbersToAdd: null)
        : db.Database.CreateExecutionStrategy();

    public static Task<TResult> RunAsync<TResult>(DbContext db, Func<CancellationToken, Task<TResult>> operation, CancellationToken cancellationToken) =>
        For(db).ExecuteAsync(operation, cancellationToken);

    public static TResult Run<TResult>(DbContext db, Func<TResult> operation) =>
        For(db).Execute(operation);
}

/// <summary>
/// Npgsql keeps idle connections in its pool and does not notice that the server behind them restarted: each one
/// fails once when next used (57P01 "terminating connection due to administrator command", or an I/O error), so
/// after a restart as many requests as there were idle connections would fail. The first such failure clears the
/// pool instead, so every later request opens a fresh connection and service resumes at once.
/// </summary>
public sealed class NpgsqlPoolReset(ILogger<NpgsqlPoolReset> logger) : DbCommandInterceptor
{
    public override void CommandFailed(DbCommand command, CommandErrorEventData eventData)
    {
        Reset(command, eventData.Exception);
        base.CommandFailed(command, eventData);
    }

    public override Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Reset(command, eventData.Exception);
        return base.CommandFailedAsync(command, eventData, cancellationToken);
    }

    private void Reset(DbCommand command, Exception exception) => ClearIfBroken(command.Connection, exception);

    /// <summary>The same for a command sent outside EF Core (GrantQueries.RunAsync).</summary>
    public void ClearIfBroken(DbConnection? dbConnection, Exception exception)
    {
        if (dbConnection is NpgsqlConnection connection && IsBrokenConnection(exception))
        {
            logger.LogWarning("PostgreSQL connection lost ({Reason}); clearing the connection pool", exception.GetBaseException().Message);
            NpgsqlConnection.ClearPool(connection);
        }
    }

    /// <summary>The server went away (shut down, restarted, crashed) rather than refusing one statement.</summary>
    internal static bool IsBrokenConnection(Exception exception) => exception switch
    {
        // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (still starting).
        PostgresException postgres => postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
            or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.InnerException is IOException or System.Net.Sockets.SocketException or EndOfStreamException,
        _ => false,
    };
}
