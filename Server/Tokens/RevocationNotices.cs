using System.Text;
using IdentityServer.Clients;
using IdentityServer.Data;

namespace IdentityServer.Tokens;

/// <summary>
/// Tells every instance's <see cref="RevocationCache"/> (and <see cref="ClientStore"/>) what a change made stale. Called
/// inside the changing transaction by everything that revokes or deletes a grant, revokes an access token, or disables
/// or deletes a client: on PostgreSQL it sends <c>pg_notify</c> in that transaction, so the notice goes out when, and
/// only if, the change commits (PostgreSQL delivers notifications at commit); in this process the entries are dropped
/// right after the commit (<see cref="AfterCommit"/>). A notice is a list of keys, one a line:
/// <c>g:</c> grant id, <c>j:</c> jti, <c>c:</c> client_id, or <c>*</c> for everything.
/// </summary>
public sealed class RevocationNotices(IdentityDbContext db, RevocationCache cache, ClientStore clients, NpgsqlPoolReset poolReset)
{
    public const string Channel = "identity_revocations";
    public const string GrantPrefix = "g:";
    public const string JtiPrefix = "j:";
    public const string ClientPrefix = "c:";
    public const string Everything = "*";

    // PostgreSQL refuses a payload of 8000 bytes or more; longer lists go in several notifications.
    private const int MaxPayloadBytes = 7000;

    private readonly GrantQueries queries = new(poolReset);

    public RevocationCache Cache => cache;

    public Task GrantsChangedAsync(IReadOnlyCollection<string> grantIds, CancellationToken cancellationToken) =>
        PublishAsync(grantIds.Select(id => GrantPrefix + id).ToArray(), cancellationToken);

    public Task AccessTokenRevokedAsync(string jti, CancellationToken cancellationToken) => PublishAsync([JtiPrefix + jti], cancellationToken);

    /// <summary>A client disabled, deleted or changed: every instance reads it again (its grants' tokens fail with it).</summary>
    public Task ClientChangedAsync(string clientId, CancellationToken cancellationToken) => PublishAsync([ClientPrefix + clientId], cancellationToken);

    /// <summary>For changes too broad to list (a person's every grant deleted): every instance starts afresh.</summary>
    public Task EverythingChangedAsync(CancellationToken cancellationToken) => PublishAsync([Everything], cancellationToken);

    private async Task PublishAsync(string[] keys, CancellationToken cancellationToken)
    {
        if (keys.Length == 0)
        {
            return;
        }

        if (db.Database.IsPostgres())
        {
            foreach (var payload in Payloads(keys))
            {
                await queries.ExecuteAsync(db, "SELECT pg_notify(@channel, @payload)", [("channel", Channel), ("payload", payload)], cancellationToken);
            }
        }

        AfterCommit.Run(db.Database, () => Apply(cache, clients, keys));
    }

    /// <summary>Drops what the keys name: here after a commit, and on every instance when its listener hears the notice.</summary>
    internal static void Apply(RevocationCache cache, ClientStore clients, IReadOnlyList<string> keys)
    {
        cache.Invalidate(keys);
        foreach (var key in keys)
        {
            if (key.StartsWith(ClientPrefix, StringComparison.Ordinal))
            {
                clients.Invalidate(key[ClientPrefix.Length..]);
            }
        }
    }

    internal static IReadOnlyList<string> Parse(string payload) => payload.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    internal static IEnumerable<string> Payloads(IReadOnlyList<string> keys)
    {
        var current = new StringBuilder();
        var bytes = 0;
        foreach (var key in keys)
        {
            var length = Encoding.UTF8.GetByteCount(key) + 1;
            if (length > MaxPayloadBytes)
            {
                yield return Everything; // a key this long is no id of ours; dropping everything is always safe
                continue;
            }

            if (bytes + length > MaxPayloadBytes)
            {
                yield return current.ToString();
                current.Clear();
                bytes = 0;
            }

            current.Append(key).Append('\n');
            bytes += length;
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }
}
