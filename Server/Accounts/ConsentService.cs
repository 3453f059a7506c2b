using IdentityServer.Audit;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Accounts;

/// <summary>
/// Remembered consent: a permanent authorization per (client, person) listing the scopes they allowed. A later request
/// for the same or fewer scopes needs no question; more scopes ask again, and allowing extends the same record.
/// </summary>
public sealed class ConsentService(IdentityDbContext db, TimeProvider time, AuditLog audit)
{
    public async Task<bool> HasConsentAsync(string applicationId, string subject, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        var granted = await FindAsync(applicationId, subject, cancellationToken);
        return granted is not null && scopes.All(ParseScopes(granted.Scopes).Contains);
    }

    public async Task GrantAsync(string applicationId, string subject, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        var existing = await db.Authorizations.FirstOrDefaultAsync(a => a.ApplicationId == applicationId && a.Subject == subject
            && a.Type == AuthorizationTypes.Permanent && a.Status == Statuses.Valid, cancellationToken);
        if (existing is null)
        {
            db.Authorizations.Add(new OAuthAuthorization
            {
                ApplicationId = applicationId,
                Subject = subject,
                Status = Statuses.Valid,
                Type = AuthorizationTypes.Permanent,
                Scopes = string.Join(' ', scopes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)),
                CreationDate = time.GetUtcNow().UtcDateTime,
            });
        }
        else
        {
            existing.Scopes = string.Join(' ', ParseScopes(existing.Scopes).Union(scopes).Order(StringComparer.Ordinal));
            existing.ConcurrencyToken = Guid.NewGuid().ToString("N");
        }

        // Recorded in the same unit of work: the consent and its audit entry are saved together.
        var clientId = await db.Applications.Where(a => a.Id == applicationId).Select(a => a.ClientId).FirstOrDefaultAsync(cancellationToken);
        audit.AddConsentGranted(subject, clientId, new { Scopes = scopes });
        await db.SaveChangesAsync(cancellationToken);
    }

    private Task<OAuthAuthorization?> FindAsync(string applicationId, string subject, CancellationToken cancellationToken) =>
        db.Authorizations.AsNoTracking().FirstOrDefaultAsync(a => a.ApplicationId == applicationId && a.Subject == subject
            && a.Type == AuthorizationTypes.Permanent && a.Status == Statuses.Valid, cancellationToken);

    private static HashSet<string> ParseScopes(string scopes) => scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
}
