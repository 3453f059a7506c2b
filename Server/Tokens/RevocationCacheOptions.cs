namespace IdentityServer.Tokens;

/// <summary>The in-process cache of grant status and revoked jtis behind introspection (docs/configuration.md, RevocationCache).</summary>
public sealed class RevocationCacheOptions
{
    public const string Section = "RevocationCache";

    /// <summary>False: every liveness check reads the database. SQL Server never caches (no push to invalidate with).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The most grants (and, separately, jtis) kept; beyond it the least recently used give way.</summary>
    public int MaxEntries { get; set; } = 100_000;

    /// <summary>
    /// The longest an entry is kept, a safety net under the push. Unset: 30 s on PostgreSQL (each revocation is pushed
    /// to every instance), 1 s on SQLite (the server's own revocations drop entries at once; another process writing the
    /// same file, such as the admin command line, is seen within this).
    /// </summary>
    public TimeSpan? MaxAge { get; set; }

    /// <summary>PostgreSQL: how often an idle notification connection proves it is alive; the cache is trusted only while it does.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>PostgreSQL: the wait before the notification connection is opened again after it was lost.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);
}
