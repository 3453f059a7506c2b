using System.Data;
using System.Data.Common;
using IdentityServer.Accounts;
using IdentityServer.Data;
using IdentityServer.Jobs;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.Data.SqlClient;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace IdentityServer.Tests.Data;

/// <summary>
/// The statements the server sends on SQL Server, offline: our hand-written SQL is valid T-SQL and the code picks the SQL
/// Server form; the statements EF Core writes for the hot paths and pruning translate. Nothing here is executed (see
/// <see cref="SqlCapture"/>): T-SQL that parses is not yet T-SQL that SQL Server ran.
/// </summary>
public sealed class SqlServerStatementTests(SqliteServer app) : IClassFixture<SqliteServer>
{
    [Fact]
    public void The_hand_written_token_statements_are_T_SQL()
    {
        foreach (var sql in new[]
        {
            GrantStore.BatchedGrantAndTokenSql, GrantStore.RedeemSql, GrantStore.InsertTokenSql, GrantStore.SqlServerRedeemAndInsertSql,
            GrantQueries.TokenByReferenceSql, GrantQueries.JtiNotRevoked, GrantQueries.GrantLiveAndJtiNotRevoked,
        })
        {
            TSql.Parse(sql);
        }

        // PostgreSQL's form is not. (SQLite's parses, as a call of a function SQL Server does not have: the parser checks
        // syntax, not names, so the next test checks that SQL Server is given its own form.)
        Assert.Throws<InvalidOperationException>(() => TSql.Parse(GrantStore.PostgresRedeemAndInsertSql));
    }

    [Fact]
    public void Each_provider_gets_its_own_redemption_and_start_up_lock()
    {
        using var sqlServer = Context(DatabaseProviders.SqlServer, SqlServerSchemaTests.NoServer);
        using var sqlite = Context(DatabaseProviders.Sqlite, "Data Source=:memory:");
        using var postgres = Context(DatabaseProviders.PostgreSql, "Host=postgres.invalid;Username=none");

        Assert.Equal(GrantStore.SqlServerRedeemAndInsertSql, GrantStore.BatchedRedeemAndInsertSql(sqlServer.Database));
        Assert.Equal(GrantStore.SqliteRedeemAndInsertSql, GrantStore.BatchedRedeemAndInsertSql(sqlite.Database));

        var (acquire, release) = StartupLock.StatementsFor(sqlServer.Database)!.Value;
        TSql.Parse(acquire);
        TSql.Parse(release);
        Assert.Contains("sp_getapplock @Resource = N'IdentityServer.Startup', @LockMode = 'Exclusive', @LockOwner = 'Session'", acquire, StringComparison.Ordinal);
        Assert.Contains("sp_releaseapplock @Resource = N'IdentityServer.Startup', @LockOwner = 'Session'", release, StringComparison.Ordinal);
        Assert.Equal(("SELECT pg_advisory_lock(315215802998)", "SELECT pg_advisory_unlock(315215802998)"), StartupLock.StatementsFor(postgres.Database));
        Assert.Null(StartupLock.StatementsFor(sqlite.Database));
    }

    [Fact]
    public void SQL_Server_retries_idempotent_work_with_its_own_transient_error_detection()
    {
        using var sqlServer = Context(DatabaseProviders.SqlServer, SqlServerSchemaTests.NoServer);
        using var sqlite = Context(DatabaseProviders.Sqlite, "Data Source=:memory:");

        Assert.IsType<SqlServerRetryingExecutionStrategy>(IdempotentRetry.For(sqlServer));
        Assert.IsNotType<SqlServerRetryingExecutionStrategy>(IdempotentRetry.For(sqlite));
        // 1205: chosen as deadlock victim; 2627/2601 (unique key) are not transient: a lost insert race is answered, not retried.
        var strategy = new RetryRule(sqlServer);
        Assert.True(strategy.Retries(SqlErrors.Exception(1205)));
        Assert.False(strategy.Retries(SqlErrors.Exception(2627)));
        Assert.True(Hosting.UnhandledErrors.IsDatabaseUnavailable(SqlErrors.Exception(1205)));
    }

    [Fact]
    public void Dates_go_to_SQL_Server_as_datetime2()
    {
        using var command = new SqlCommand();
        GrantQueries.AddParameter(command, "now", new DateTime(2026, 11, 25, 8, 30, 0, 123, DateTimeKind.Utc).AddTicks(4567));
        GrantQueries.AddParameter(command, "id", "token-1");

        Assert.Equal(SqlDbType.DateTime2, command.Parameters["now"].SqlDbType);
        Assert.Equal(SqlDbType.NVarChar, command.Parameters["id"].SqlDbType);
    }

    [Fact]
    public async Task The_EF_statements_of_revocation_pruning_and_account_lookups_translate_to_T_SQL()
    {
        var capture = new SqlCapture();
        await using var db = Context(DatabaseProviders.SqlServer, SqlServerSchemaTests.NoServer, capture);
        var now = new DateTime(2026, 11, 25, 8, 0, 0, DateTimeKind.Utc);

        // Revoking a family: its grant ids are read, then its tokens and the grant are updated in one transaction.
        capture.NextRows = ["grant-1"];
        var store = new GrantStore(db, TimeProvider.System, new NpgsqlPoolReset(NullLogger<NpgsqlPoolReset>.Instance));
        await store.RevokeAuthorizationsAsync(a => a.Subject == "alice", CancellationToken.None);

        foreach (var step in app.Services.GetServices<IPruneStep>())
        {
            await step.FindWindowEndAsync(db, now.AddDays(-30), new PruneCutoff(now, now.AddDays(-1)), 500, CancellationToken.None);
            await step.DeleteWindowAsync(db, now.AddDays(-30), now.AddDays(-2), new PruneCutoff(now, now.AddDays(-1)), CancellationToken.None);
        }

        var accounts = new AccountQueries();
        await accounts.UserById(db, "user-1", CancellationToken.None);
        await accounts.SessionById(db, "session-1", CancellationToken.None);

        Assert.Contains(capture.Commands, c => c.StartsWith("UPDATE [t]", StringComparison.Ordinal) && c.Contains("SET [t].[Status]", StringComparison.Ordinal));
        Assert.Contains(capture.Commands, c => c.StartsWith("UPDATE [a]", StringComparison.Ordinal));
        Assert.Contains(capture.Commands, c => c.StartsWith("DELETE FROM [t]", StringComparison.Ordinal));
        Assert.Contains(capture.Commands, c => c.Contains("SELECT TOP(1)", StringComparison.Ordinal) && c.Contains("[AspNetUsers]", StringComparison.Ordinal));
        Assert.True(capture.Commands.Count >= 15, string.Join(Environment.NewLine, capture.Commands));
        foreach (var command in capture.Commands)
        {
            TSql.Parse(command);
        }
    }

    private IdentityDbContext Context(string provider, string connectionString, SqlCapture? capture = null)
    {
        var builder = new DbContextOptionsBuilder<IdentityDbContext>();
        DatabaseRegistration.ProviderConfiguration(new DatabaseOptions { Provider = provider, ConnectionString = connectionString })(builder);
        builder.UseApplicationServiceProvider(app.Services);
        if (capture is not null)
        {
            builder.AddInterceptors(capture);
        }

        return new IdentityDbContext(builder.Options);
    }
}

/// <summary>The retry rule of EF's SQL Server strategy, which <see cref="IdempotentRetry"/> uses, asked directly.</summary>
internal sealed class RetryRule(DbContext db) : SqlServerRetryingExecutionStrategy(db, 2, TimeSpan.FromSeconds(1), errorNumbersToAdd: null)
{
    public bool Retries(Exception exception) => ShouldRetryOn(exception);
}

/// <summary>SqlException has no public constructor; SqlClient's own test hooks are internal, so this builds one by reflection.</summary>
internal static class SqlErrors
{
    public static SqlException Exception(int number)
    {
        var collection = (SqlErrorCollection)Activator.CreateInstance(typeof(SqlErrorCollection), nonPublic: true)!;
        var error = (SqlError)Activator.CreateInstance(typeof(SqlError), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance,
            null, [number, (byte)0, (byte)16, "test", $"error {number}", "", 0, null], null)!;
        typeof(SqlErrorCollection).GetMethod("Add", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.Invoke(collection, [error]);
        return (SqlException)typeof(SqlException).GetMethod("CreateException", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static,
            [typeof(SqlErrorCollection), typeof(string)])!.Invoke(null, [collection, "16.0"])!;
    }
}

/// <summary>
/// Records the SQL EF Core sends and executes none of it: the connection is never opened (no SQL Server is reached or
/// pretended), transactions are empty shells, queries read <see cref="NextRows"/> (once) or nothing, commands change
/// one row.
/// </summary>
internal sealed class SqlCapture : DbCommandInterceptor, IDbConnectionInterceptor, IDbTransactionInterceptor
{
    public List<string> Commands { get; } = [];

    /// <summary>Rows of one string column that the next query reads.</summary>
    public string[] NextRows { get; set; } = [];

    public ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result,
        CancellationToken cancellationToken = default) => ValueTask.FromResult(InterceptionResult.Suppress());

    public InterceptionResult ConnectionOpening(DbConnection connection, ConnectionEventData eventData, InterceptionResult result) =>
        InterceptionResult.Suppress();

    public ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result) =>
        ValueTask.FromResult(InterceptionResult.Suppress());

    public InterceptionResult ConnectionClosing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result) =>
        InterceptionResult.Suppress();

    public ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(InterceptionResult<DbTransaction>.SuppressWithResult(new NoTransaction(connection)));

    public ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result,
        CancellationToken cancellationToken = default) => ValueTask.FromResult(InterceptionResult.Suppress());

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Commands.Add(command.CommandText);
        var table = new DataTable();
        table.Columns.Add("Value", typeof(string));
        foreach (var row in NextRows)
        {
            table.Rows.Add(row);
        }

        NextRows = [];
        return ValueTask.FromResult(InterceptionResult<DbDataReader>.SuppressWithResult(table.CreateDataReader()));
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Commands.Add(command.CommandText);
        return ValueTask.FromResult(InterceptionResult<int>.SuppressWithResult(1));
    }

    private sealed class NoTransaction(DbConnection connection) : DbTransaction
    {
        public override IsolationLevel IsolationLevel => IsolationLevel.ReadCommitted;
        protected override DbConnection DbConnection => connection;
        public override void Commit() { }
        public override void Rollback() { }
    }
}
