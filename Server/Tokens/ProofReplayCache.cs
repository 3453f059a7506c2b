using System.Security.Cryptography;
using System.Text;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tokens;

/// <summary>
/// Remembers the DPoP proofs already accepted (RFC 9449 §11.1), in the database so that every instance sees them: the
/// first use of a (key, jti) pair wins, any later one is a replay. The primary key decides, so of two instances racing
/// with the same proof exactly one inserts the row. Rows expire with their proof's iat window and are pruned.
/// </summary>
public sealed class ProofReplayCache(IdentityDbContext db)
{
    /// <summary>True the first time (<paramref name="keyThumbprint"/>, <paramref name="jti"/>) is seen; false for a replay.</summary>
    public async Task<bool> TryUseAsync(string keyThumbprint, string jti, DateTimeOffset rememberUntil, CancellationToken cancellationToken)
    {
        var row = new DPoPProofJti { Id = Key(keyThumbprint, jti), ExpirationDate = rememberUntil.UtcDateTime };
        if (await db.DPoPProofJtis.AsNoTracking().AnyAsync(p => p.Id == row.Id, cancellationToken))
        {
            return false;
        }

        db.DPoPProofJtis.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another request (on any instance) inserted the same proof between the check and this insert.
            return false;
        }
        finally
        {
            db.Entry(row).State = EntityState.Detached;
        }
    }

    /// <summary>The jti is the client's own string of any length: hashed with the key, it fits the column and says nothing.</summary>
    private static string Key(string keyThumbprint, string jti) =>
        Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(keyThumbprint + " " + jti)));
}
