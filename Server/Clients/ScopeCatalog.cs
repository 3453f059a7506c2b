using System.Collections.Frozen;
using System.Text.Json;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Clients;

/// <summary>A scope as a person and the protocol see it: a plain-words description and the audiences it opens.</summary>
public sealed record ScopeDescriptor(string Name, string DisplayName, string? Description, IReadOnlyList<string> Resources);

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

    public static readonly FrozenDictionary<string, ScopeDescriptor> StandardScopes = new ScopeDescriptor[]
    {
        new(OpenId, "Sign you in", "Confirm who you are with your account on this server.", []),
        new(Profile, "Your profile", "Your name, username and picture.", []),
        new(Email, "Your email address", "Your email address and whether it is verified.", []),
        new(OfflineAccess, "Stay connected", "Keep access while you are away, until you revoke it.", []),
    }.ToFrozenDictionary(s => s.Name, StringComparer.Ordinal);

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
        var stored = await db.Scopes.AsNoTracking().ToListAsync(cancellationToken);
        var all = new Dictionary<string, ScopeDescriptor>(StandardScopes, StringComparer.Ordinal);
        foreach (var row in stored)
        {
            var resources = JsonSerializer.Deserialize(row.Resources, ClientJsonContext.Default.StringArray) ?? [];
            all[row.Name] = new ScopeDescriptor(row.Name, row.DisplayName ?? row.Name, row.Description, resources);
        }

        var frozen = all.ToFrozenDictionary(StringComparer.Ordinal);
        _snapshot = new Snapshot(frozen, now);
        return frozen;
    }

    public void Invalidate() => _snapshot = null;
}
