using System.Linq.Expressions;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Jobs;

/// <summary>
/// A table whose rows are dead once their expiry is past: every row of a window older than the retention threshold
/// goes. Walked by the expiry column, which each such table indexes. Used for revoked access tokens (an expired token
/// is refused on its own, so its jti need not be remembered, RFC 7009 §2.1), ended sign-in sessions, and expired
/// initial access tokens (RFC 7591 §3), device codes (RFC 8628: answered or not, dead once expired); the retention covers clock differences between instances.
/// </summary>
internal sealed class ExpiredRowsPruneStep<TRow>(string name, Expression<Func<TRow, DateTime>> expiry) : IPruneStep
    where TRow : class
{
    public string Name => name;

    public Task<DateTime?> FindWindowEndAsync(IdentityDbContext db, DateTime after, PruneCutoff cutoff, int batchSize, CancellationToken cancellationToken)
    {
        var threshold = cutoff.Threshold;
        return db.Set<TRow>()
            .Select(expiry)
            .Where(e => e > after && e < threshold)
            .OrderBy(e => e)
            .Select(e => (DateTime?)e)
            .Skip(batchSize - 1)
            .FirstOrDefaultAsync(cancellationToken);
    }

    public Task<int> DeleteWindowAsync(IdentityDbContext db, DateTime after, DateTime? upTo, PruneCutoff cutoff, CancellationToken cancellationToken)
    {
        var window = new Window(after, upTo ?? cutoff.Threshold, cutoff.Threshold);
        return db.Set<TRow>().Where(InWindow(window)).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// expiry(row) in (After, End] and below Threshold. The bounds are read from an object, as a C# closure would be, so
    /// EF Core sends them as parameters and reuses one cached query.
    /// </summary>
    private Expression<Func<TRow, bool>> InWindow(Window window)
    {
        var value = expiry.Body;
        var bounds = Expression.Constant(window);
        Expression Bound(string field) => Expression.Field(bounds, field);
        var body = Expression.AndAlso(
            Expression.AndAlso(Expression.GreaterThan(value, Bound(nameof(Window.After))), Expression.LessThanOrEqual(value, Bound(nameof(Window.End)))),
            Expression.LessThan(value, Bound(nameof(Window.Threshold))));
        return Expression.Lambda<Func<TRow, bool>>(body, expiry.Parameters);
    }

    private sealed class Window(DateTime after, DateTime end, DateTime threshold)
    {
        public readonly DateTime After = after;
        public readonly DateTime End = end;
        public readonly DateTime Threshold = threshold;
    }
}
