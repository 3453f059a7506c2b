using IdentityServer.Clients;
using IdentityServer.Data;

namespace IdentityServer.Tokens;

/// <summary>
/// Whether a JWT access token whose signature and expiry checked out still stands, for the endpoints that need the
/// truth now (introspection, userinfo, the admin API): its client enabled, its grant (when it has one) valid, its jti
/// not revoked. From the <see cref="RevocationCache"/> where it may be trusted (a revocation anywhere drops its entry
/// within milliseconds), else one indexed statement; the client is cached at most a second. Also the revocation of one
/// access token (RFC 7009 §2): its jti is remembered until the token would have expired, then pruned.
/// </summary>
public sealed class AccessTokenStatus(IdentityDbContext db, TimeProvider time, NpgsqlPoolReset poolReset, ClientStore clients,
    RevocationNotices notices)
{
    private readonly GrantStore store = new(db, time, poolReset, notices);

    /// <param name="client">The token's client when the caller already holds it (introspection by that very client).</param>
    public async Task<bool> IsLiveAsync(ValidatedAccessToken token, CancellationToken cancellationToken, ClientDescriptor? client = null)
    {
        client ??= await clients.FindAsync(token.ClientId, cancellationToken);
        return client is { Enabled: true } && client.ClientId == token.ClientId && await store.IsAccessTokenLiveAsync(token, cancellationToken);
    }

    public Task RevokeAsync(ValidatedAccessToken token, CancellationToken cancellationToken) =>
        store.RevokeAccessTokenAsync(token.Jti, token.ExpiresAt, cancellationToken);
}
