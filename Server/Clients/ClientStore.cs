using System.Collections.Concurrent;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Clients;

/// <summary>
/// Finds clients by client_id. Entries are cached for at most one second (a cache may be stale, never for
/// longer than that), so the token endpoint rarely touches the database for the client, and a client disabled on
/// another instance is refused everywhere within a second. Changes made here are invalidated at once.
/// </summary>
public sealed class ClientStore(IServiceScopeFactory scopes)
{
    private static readonly long MaxAgeTicks = TimeSpan.FromSeconds(1).Ticks;
    private readonly ConcurrentDictionary<string, (ClientDescriptor? Client, long LoadedAt)> _cache = new(StringComparer.Ordinal);

    public async ValueTask<ClientDescriptor?> FindAsync(string clientId, CancellationToken cancellationToken = default)
    {
        var now = DateTime.UtcNow.Ticks;
        if (_cache.TryGetValue(clientId, out var entry) && now - entry.LoadedAt < MaxAgeTicks)
        {
            return entry.Client;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        // A read: safe to retry when a connection drops (IdempotentRetry), so a database restart costs no request here.
        var application = await IdempotentRetry.RunAsync(db,
            ct => db.Applications.AsNoTracking().FirstOrDefaultAsync(a => a.ClientId == clientId, ct), cancellationToken);
        var client = application is null ? null : ClientDescriptor.From(application);
        if (_cache.Count > 10_000)
        {
            _cache.Clear(); // unknown client ids must not grow memory without bound
        }

        _cache[clientId] = (client, now);
        return client;
    }

    public void Invalidate(string clientId) => _cache.TryRemove(clientId, out _);
}
