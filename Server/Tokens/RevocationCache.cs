using System.Diagnostics;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.Extensions.Caching.Memory;

namespace IdentityServer.Tokens;

/// <summary>How far the revocation cache can be trusted, fixed by the database provider.</summary>
public enum RevocationCacheMode
{
    /// <summary>Every check reads the database: SQL Server (no push), or the cache switched off.</summary>
    Off,

    /// <summary>SQLite, one process: the server's own commits drop entries, so the cache is coherent by construction.</summary>
    Coherent,

    /// <summary>PostgreSQL: trusted only while <see cref="RevocationListener"/> is subscribed to the revocation channel.</summary>
    Push,
}

/// <summary>
/// What introspection, userinfo and the admin API ask on every call, from memory: is this grant still valid, is this jti
/// revoked. Entries are filled from the database on a miss and dropped when a revocation commits: in this process at
/// once (<see cref="AfterCommit"/>), on other instances by PostgreSQL NOTIFY (<see cref="RevocationNotices"/>, sent in the
/// revoking transaction, and <see cref="RevocationListener"/>). Fail closed: under <see cref="RevocationCacheMode.Push"/>
/// the cache is bypassed (the database answers) whenever the notification connection is down or has not proved itself
/// alive lately, and cleared when it is back, because notifications sent meanwhile are lost.
/// </summary>
/// <remarks>
/// A read racing a revocation: a check misses, reads "valid", and meanwhile the revocation commits and its invalidation
/// runs before the check stores its answer. The stored answer would be stale, so each check carries the
/// <see cref="_generation"/> it started under and stores nothing if an invalidation has happened since (both under one
/// lock, so no invalidation slips between the comparison and the store).
/// </remarks>
public sealed class RevocationCache : IDisposable
{
    private readonly MemoryCache _grants;
    private readonly MemoryCache _jtis;
    private readonly TimeSpan _maxAge;
    private readonly long _trustWindowTicks;
    private readonly ServerMetrics _metrics;
    private readonly Lock _lock = new();
    private long _generation;
    private volatile bool _subscribed;
    private long _confirmedAt;

    public RevocationCache(DatabaseOptions database, RevocationCacheOptions options, ServerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(options);
        _metrics = metrics;
        Mode = !options.Enabled ? RevocationCacheMode.Off
            : Is(database, DatabaseProviders.Sqlite) ? RevocationCacheMode.Coherent
            : Is(database, DatabaseProviders.PostgreSql) ? RevocationCacheMode.Push
            : RevocationCacheMode.Off;
        _maxAge = options.MaxAge ?? (Mode == RevocationCacheMode.Push ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(1));
        // Three heartbeats without a word from the connection, and its silence is no longer taken for "nothing revoked".
        _trustWindowTicks = (long)(options.HeartbeatInterval.TotalSeconds * 3 * Stopwatch.Frequency);
        var size = Math.Max(1, options.MaxEntries);
        _grants = new MemoryCache(new MemoryCacheOptions { SizeLimit = size });
        _jtis = new MemoryCache(new MemoryCacheOptions { SizeLimit = size });
    }

    public RevocationCacheMode Mode { get; }

    /// <summary>Whether a check may be answered from memory now.</summary>
    public bool IsTrusted => Mode switch
    {
        RevocationCacheMode.Coherent => true,
        RevocationCacheMode.Push => _subscribed && Stopwatch.GetTimestamp() - Volatile.Read(ref _confirmedAt) < _trustWindowTicks,
        _ => false,
    };

    /// <summary>
    /// The cached answer for an access token of grant <paramref name="grantId"/> (null: a token without grant) and
    /// <paramref name="jti"/>. False when it must be read from the database; then <paramref name="generation"/> is what
    /// <see cref="Remember"/> needs, or -1 when the answer must not be kept.
    /// </summary>
    public bool TryGetLive(string? grantId, string jti, out bool live, out long generation)
    {
        live = false;
        if (!IsTrusted)
        {
            generation = -1;
            _metrics.RevocationCacheLookup("bypass");
            return false;
        }

        generation = Volatile.Read(ref _generation);
        if (_jtis.TryGetValue(jti, out bool jtiRevoked))
        {
            if (grantId is null)
            {
                live = !jtiRevoked;
                _metrics.RevocationCacheLookup("hit");
                return true;
            }

            if (_grants.TryGetValue(grantId, out bool grantValid))
            {
                live = grantValid && !jtiRevoked;
                _metrics.RevocationCacheLookup("hit");
                return true;
            }
        }

        _metrics.RevocationCacheLookup("miss");
        return false;
    }

    /// <summary>Keeps what the database answered, unless a revocation has been applied since the check began.</summary>
    public void Remember(string? grantId, bool grantValid, string jti, bool jtiRevoked, long generation)
    {
        if (generation < 0)
        {
            return;
        }

        lock (_lock)
        {
            if (generation != _generation)
            {
                return;
            }

            var entry = new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _maxAge };
            _jtis.Set(jti, jtiRevoked, entry);
            if (grantId is not null)
            {
                _grants.Set(grantId, grantValid, entry);
            }
        }
    }

    /// <summary>Drops what a committed change may have made stale (see <see cref="RevocationNotices"/> for the keys).</summary>
    public void Invalidate(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        lock (_lock)
        {
            _generation++;
            foreach (var key in keys)
            {
                if (key == RevocationNotices.Everything)
                {
                    ClearLocked();
                }
                else if (key.StartsWith(RevocationNotices.GrantPrefix, StringComparison.Ordinal))
                {
                    _grants.Remove(key[RevocationNotices.GrantPrefix.Length..]);
                }
                else if (key.StartsWith(RevocationNotices.JtiPrefix, StringComparison.Ordinal))
                {
                    _jtis.Remove(key[RevocationNotices.JtiPrefix.Length..]);
                }
            }
        }
    }

    /// <summary>The listener holds the channel (LISTEN done): what was cached while it did not may be stale, so it goes.</summary>
    internal void Subscribed()
    {
        lock (_lock)
        {
            _generation++;
            ClearLocked();
            Volatile.Write(ref _confirmedAt, Stopwatch.GetTimestamp());
            _subscribed = true;
        }
    }

    /// <summary>The notification connection is lost: from now on the database answers.</summary>
    internal void Unsubscribed()
    {
        lock (_lock)
        {
            _subscribed = false;
            _generation++;
            ClearLocked();
        }
    }

    /// <summary>The notification connection answered: notifications sent until now have arrived.</summary>
    internal void Confirmed() => Volatile.Write(ref _confirmedAt, Stopwatch.GetTimestamp());

    internal bool IsSubscribed => _subscribed;

    private void ClearLocked()
    {
        _grants.Clear();
        _jtis.Clear();
    }

    public void Dispose()
    {
        _grants.Dispose();
        _jtis.Dispose();
    }

    private static bool Is(DatabaseOptions database, string provider) =>
        string.Equals(database.Provider, provider, StringComparison.OrdinalIgnoreCase);
}
