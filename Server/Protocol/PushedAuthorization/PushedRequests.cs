using System.Text.Json;
using IdentityServer.Data;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Primitives;

namespace IdentityServer.Protocol.PushedAuthorization;

/// <summary>
/// The stored pushed authorization requests (RFC 9126). A request_uri is <c>urn:ietf:params:oauth:request_uri:</c>
/// followed by 256 random bits; the table holds only the SHA-256 of that random part. Its life: pushed (usable for
/// <see cref="PushedAuthorizationOptions.Lifetime"/>), claimed by the first /authorize that brings it (one conditional
/// UPDATE: of two concurrent uses exactly one wins), then deleted when that authorization's code is issued (one DELETE:
/// exactly one code). The database holds it, so any instance can answer any step.
/// </summary>
public sealed class PushedRequests(IdentityDbContext db, TimeProvider time, PushedAuthorizationOptions options)
{
    /// <summary>RFC 9126 §2.2: the request_uri is a URN in this namespace.</summary>
    public const string UriPrefix = "urn:ietf:params:oauth:request_uri:";

    /// <summary>Stores the validated parameters for <paramref name="clientId"/>; returns the request_uri and its lifetime in seconds.</summary>
    public async Task<(string RequestUri, int ExpiresIn)> CreateAsync(string clientId, IEnumerable<KeyValuePair<string, StringValues>> parameters,
        CancellationToken cancellationToken)
    {
        var (value, hash) = OpaqueToken.Create();
        var now = time.GetUtcNow().UtcDateTime;
        var stored = parameters.ToDictionary(p => p.Key, p => p.Value.Where(v => v is not null).Select(v => v!).ToArray(), StringComparer.Ordinal);
        db.PushedAuthorizationRequests.Add(new PushedAuthorizationRequest
        {
            ReferenceId = hash,
            ClientId = clientId,
            Parameters = JsonSerializer.Serialize(stored),
            CreationDate = now,
            ExpirationDate = now + options.Lifetime,
        });
        await db.SaveChangesAsync(cancellationToken);
        return (UriPrefix + value, (int)options.Lifetime.TotalSeconds);
    }

    /// <summary>The live request this request_uri names, or null (malformed, unknown, expired or already answered).</summary>
    public async Task<PushedAuthorizationRequest?> FindAsync(string requestUri, CancellationToken cancellationToken)
    {
        if (!requestUri.StartsWith(UriPrefix, StringComparison.Ordinal) || !OpaqueToken.IsWellFormed(requestUri[UriPrefix.Length..]))
        {
            return null;
        }

        var hash = OpaqueToken.Hash(requestUri[UriPrefix.Length..]);
        var now = time.GetUtcNow().UtcDateTime;
        return await db.PushedAuthorizationRequests.AsNoTracking()
            .FirstOrDefaultAsync(r => r.ReferenceId == hash && r.ExpirationDate > now, cancellationToken);
    }

    /// <summary>
    /// Binds an unclaimed request to the browser holding the value behind <paramref name="bindingHash"/>, for the
    /// interaction lifetime. False when another use claimed it first or it expired meanwhile.
    /// </summary>
    public async Task<bool> TryClaimAsync(string id, string bindingHash, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var until = now + options.InteractionLifetime;
        var changed = await db.PushedAuthorizationRequests
            .Where(r => r.Id == id && r.ClaimedAt == null && r.ExpirationDate > now)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.ClaimedAt, now)
                .SetProperty(r => r.BindingHash, bindingHash)
                .SetProperty(r => r.ExpirationDate, until), cancellationToken);
        return changed == 1;
    }

    /// <summary>Ends the request as its code is issued; false when it was already ended (the other of two racing approvals).</summary>
    public async Task<bool> TryCompleteAsync(string id, CancellationToken cancellationToken) =>
        await db.PushedAuthorizationRequests.Where(r => r.Id == id).ExecuteDeleteAsync(cancellationToken) == 1;

    /// <summary>The stored parameters as the validator reads them.</summary>
    public static Dictionary<string, StringValues> ReadParameters(PushedAuthorizationRequest row)
    {
        var stored = JsonSerializer.Deserialize<Dictionary<string, string[]>>(row.Parameters) ?? [];
        return stored.ToDictionary(p => p.Key, p => new StringValues(p.Value), StringComparer.Ordinal);
    }
}
