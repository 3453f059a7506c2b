using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace IdentityServer.Data;

/// <summary>
/// Work that must follow a commit, not precede it: an in-memory cache dropping what a transaction changed. Dropped
/// before the commit, a concurrent request could read the old rows and cache them again; dropped after, it cannot.
/// <see cref="Run"/> runs the action at once when no transaction is open (the statement committed by itself), else when
/// the context's transaction commits (<see cref="Interceptor"/>, registered with every provider), and never when it
/// rolls back.
/// </summary>
public static class AfterCommit
{
    private static readonly ConditionalWeakTable<DbTransaction, List<Action>> Pending = [];

    /// <summary>Registered in <see cref="DatabaseRegistration.ProviderConfiguration"/>, so every context has it.</summary>
    public static readonly IInterceptor Interceptor = new CommitInterceptor();

    public static void Run(DatabaseFacade database, Action action)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (database.CurrentTransaction?.GetDbTransaction() is not { } transaction)
        {
            action();
            return;
        }

        Pending.GetOrCreateValue(transaction).Add(action);
    }

    private static void Committed(DbTransaction transaction)
    {
        if (Pending.TryGetValue(transaction, out var actions))
        {
            Pending.Remove(transaction);
            foreach (var action in actions)
            {
                action();
            }
        }
    }

    private static void Discarded(DbTransaction transaction) => Pending.Remove(transaction);

    private sealed class CommitInterceptor : DbTransactionInterceptor
    {
        public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Committed(transaction);

        public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData,
            CancellationToken cancellationToken = default)
        {
            Committed(transaction);
            return Task.CompletedTask;
        }

        public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Discarded(transaction);

        public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData,
            CancellationToken cancellationToken = default)
        {
            Discarded(transaction);
            return Task.CompletedTask;
        }

        public override void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Discarded(transaction);

        public override Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData,
            CancellationToken cancellationToken = default)
        {
            Discarded(transaction);
            return Task.CompletedTask;
        }
    }
}
