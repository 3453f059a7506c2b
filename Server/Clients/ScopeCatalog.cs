using System.Collections.Frozen;
using System.Text.Json;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Clients;

/// <summary>
/// A scope as a person and the protocol see it: a plain-words description, the audiences it opens and the custom user
/// claim types it releases.
/// </summary>
public sealed record ScopeDescriptor(string Name, string DisplayName, string? Description, IReadOnlyList<string> Resources)
{
    public IReadOnlyList<string> Claims { get; init; } = [];
}

/// <summary>
/// The scopes the server knows: the OpenID Connect standard ones (built in) and the API scopes admins register in
/// the Scopes table. Cached for at most one second, like clients.
/// </summary>
public sealed class ScopeCatalog(IServiceScopeFactory scopes)
{
    public const string OpenId = "openid";
    public const string Profile = "profile";
    public const string Email = "email";
    public const string OfflineAccess = "offline_access";
    /// <summary>Releases the person's roles (ASP.NET Core Identity roles) as the <c>roles</c> claim.</summary>
    public const string Roles = "roles";
    /// <summary>
    /// The admin API scope. Built in and never listed in discovery; a token carrying it is honoured only while its
    /// subject holds the admin role (checked on every admin API request), so granting it to anyone else gives nothing.
    /// </summary>
    public const string Admin = "admin";

    public static readonly FrozenDictionary<string, ScopeDescriptor> StandardScopes = new ScopeDescriptor[]
    {
        new(OpenId, "Sign you in", "Confirm who you are with your account on this server.", []),
        new(Profile, "Your profile", "Your name, username and picture.", []),
        new(Email, "Your email address", "Your email address and whether it is verified.", []),
        new(OfflineAccess, "Stay connected", "Keep access while you are away, until you revoke it.", []),
        new(Roles, "Your roles", "The roles you hold on this server.", []),
    }.ToFrozenDictionary(s => s.Name, StringComparer.Ordinal);

    /// <summary>Scopes the server defines itself: the standard ones and <see cref="Admin"/>. Admins cannot register these names.</summary>
    public static readonly FrozenDictionary<string, ScopeDescriptor> BuiltInScopes = StandardScopes.Values
        .Append(new ScopeDescriptor(Admin, "Administer this server", "Manage its clients, scopes and users (administrators only).", []))
        .ToFrozenDictionary(s => s.Name, StringComparer.Ordinal);

    private static readonly long MaxAgeTicks = TimeSpan.FromSeconds(1).Ticks;
    private volatile Snapshot? _snapshot;

    private sealed record Snapshot(FrozenDictionary<string, ScopeDescriptor> Scopes, long LoadedAt);

    public async ValueTask<FrozenDictionary<string, ScopeDescriptor>> GetAllAsync(CancellationToken cancellationToken = default)
    {
        var snapshot = _snapshot;
        var now = DateTime.UtcNow.Ticks;
        if (snapshot is not null && now - snapshot.LoadedAt < MaxAgeTicks)
        {
            return snapshot.Scopes;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        // A read: safe to retry when a connection drops (IdempotentRetry), like the client lookup.
        var stored = await IdempotentRetry.RunAsync(db, ct => db.Scopes.AsNoTracking().ToListAsync(ct), cancellationToken);
        var all = new Dictionary<string, ScopeDescriptor>(BuiltInScopes, StringComparer.Ordinal);
        // A stored row may not redefine the admin scope (its resources would widen what an admin token opens).
        foreach (var row in stored.Where(r => r.Name != Admin))
        {
            var resources = JsonSerializer.Deserialize(row.Resources, ClientJsonContext.Default.StringArray) ?? [];
            var claims = JsonSerializer.Deserialize(row.Claims, ClientJsonContext.Default.StringArray) ?? [];
            all[row.Name] = new ScopeDescriptor(row.Name, row.DisplayName ?? row.Name, row.Description, resources) { Claims = claims };
        }

        var frozen = all.ToFrozenDictionary(StringComparer.Ordinal);
        _snapshot = new Snapshot(frozen, now);
        return frozen;
    }

    public void Invalidate() => _snapshot = null;
}
