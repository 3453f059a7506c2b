using IdentityServer.Data;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Protocol.ClientAssertions;

/// <summary>
/// The jti replay check of client assertions (RFC 7523 §3 item 7: the server "MAY ensure that JWTs are not replayed
/// by maintaining the set of used jti values for the length of time for which the JWT would be considered valid").
/// The set lives in the database, so one instance refuses what another accepted; the row's primary key is the hash of
/// client_id and jti, so of two concurrent inserts exactly one succeeds. Rows are pruned once expired.
/// </summary>
public sealed class UsedAssertions(IServiceScopeFactory scopes)
{
    /// <summary>Records the pair; false when it was already recorded (a replay).</summary>
    public async Task<bool> TryRecordAsync(string clientId, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var id = OpaqueToken.Hash(clientId + "\n" + jti);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        db.UsedClientAssertions.Add(new UsedClientAssertion { Id = id, ClientId = clientId, ExpirationDate = expiresAt.UtcDateTime });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Provider-neutral: whatever the constraint error's shape, a row with this key now existing means a replay.
            db.ChangeTracker.Clear();
            if (await db.UsedClientAssertions.AsNoTracking().AnyAsync(a => a.Id == id, cancellationToken))
            {
                return false;
            }

            throw;
        }
    }
}
