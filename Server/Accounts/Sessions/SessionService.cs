using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Accounts.Sessions;

/// <summary>A session as the person sees it on "Devices and apps".</summary>
public sealed record SessionView(string Id, string Device, string? IpAddress, DateTime Created, DateTime LastSeen);

/// <summary>An app holding grants for the person.</summary>
public sealed record AppGrantView(string ApplicationId, string ClientName, IReadOnlyList<string> Scopes, DateTime Created, DateTime? LastUsed);

/// <summary>
/// Lists and ends a person's sign-in sessions and app grants. Ending is immediate on every instance: sessions are
/// rows (the ticket store reads them on each request) and grants are checked by the token and introspection endpoints.
/// Every ended session is announced to the apps that used it (back-channel logout).
/// </summary>
public sealed class SessionService(IdentityDbContext db, TokenFamilies grants, LogoutNotifier notifier, TimeProvider time, AuditLog audit)
{
    public async Task<IReadOnlyList<SessionView>> ListSessionsAsync(string subject, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var rows = await db.Sessions.AsNoTracking()
            .Where(s => s.Subject == subject && s.ExpirationDate > now)
            .Select(s => new { s.Sid, s.UserAgent, s.IpAddress, s.CreationDate, s.LastSeenDate })
            .ToListAsync(cancellationToken);
        return rows.OrderByDescending(s => s.LastSeenDate)
            .Select(s => new SessionView(s.Sid, UserAgentSummary.Describe(s.UserAgent), s.IpAddress, s.CreationDate, s.LastSeenDate))
            .ToList();
    }

    public async Task<IReadOnlyList<AppGrantView>> ListAppsAsync(string subject, CancellationToken cancellationToken)
    {
        var authorizations = await db.Authorizations.AsNoTracking()
            .Where(a => a.Subject == subject && a.Status == Statuses.Valid)
            .Select(a => new { a.Id, a.ApplicationId, ClientName = a.Application!.DisplayName, a.Scopes, a.CreationDate })
            .ToListAsync(cancellationToken);
        var ids = authorizations.Select(a => a.Id).ToList();
        var lastUse = await db.Tokens.AsNoTracking()
            .Where(t => t.AuthorizationId != null && ids.Contains(t.AuthorizationId))
            .GroupBy(t => t.ApplicationId)
            .Select(g => new { ApplicationId = g.Key, Last = g.Max(t => t.CreationDate) })
            .ToDictionaryAsync(x => x.ApplicationId, x => x.Last, cancellationToken);
        return authorizations
            .GroupBy(a => a.ApplicationId)
            .Select(g => new AppGrantView(
                g.Key,
                g.First().ClientName,
                g.SelectMany(a => a.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
                g.Min(a => a.CreationDate),
                lastUse.TryGetValue(g.Key, out var last) ? last : null))
            .OrderBy(a => a.ClientName, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    /// <summary>
    /// Ends one session of the person and revokes the refresh-token families created in it. A session id that is not
    /// the person's changes nothing: no row, no grant, no logout token (the sid is in every ID token its owner holds).
    /// </summary>
    public async Task<bool> EndSessionAsync(string subject, string sessionId, CancellationToken cancellationToken)
    {
        // One transaction: a session gone from the list while its grants stay valid would be invisible and unrevokable.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await IsSessionOfAsync(subject, sessionId, cancellationToken))
        {
            return false;
        }

        var deleted = await db.Sessions.Where(s => s.Sid == sessionId && s.Subject == subject).ExecuteDeleteAsync(cancellationToken);
        var clients = await ClientsOfSessionAsync(subject, sessionId, cancellationToken);
        await grants.RevokeSessionAsync(sessionId, applicationId: null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        notifier.SessionEnded(subject, sessionId, clients);
        if (deleted > 0)
        {
            await audit.RecordSessionAsync(subject, "session.ended", clientId: null, details: null);
        }

        return deleted > 0;
    }

    /// <summary>RP-initiated logout: ends the session, revoking that client's families created in it.</summary>
    public async Task EndSessionForClientLogoutAsync(string subject, string sessionId, string? applicationId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await IsSessionOfAsync(subject, sessionId, cancellationToken))
        {
            return;
        }

        var clients = await ClientsOfSessionAsync(subject, sessionId, cancellationToken);
        await db.Sessions.Where(s => s.Sid == sessionId && s.Subject == subject).ExecuteDeleteAsync(cancellationToken);
        await grants.RevokeSessionAsync(sessionId, applicationId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        notifier.SessionEnded(subject, sessionId, clients);
        await audit.RecordSessionAsync(subject, "session.logout", await ClientIdAsync(applicationId, cancellationToken), details: null);
    }

    /// <summary>Revokes one app's grants for the person (remembered consent included).</summary>
    public async Task<int> RevokeAppAsync(string subject, string applicationId, CancellationToken cancellationToken)
    {
        var revoked = await grants.RevokeClientAsync(applicationId, subject, cancellationToken);
        if (revoked > 0)
        {
            await audit.RecordConsentRevokedAsync(subject, await ClientIdAsync(applicationId, cancellationToken), new { GrantsRevoked = revoked });
        }

        return revoked;
    }

    /// <summary>
    /// Ends every session of the person but <paramref name="keepSessionId"/> (after a password change, in the browser that
    /// made it), revoking the refresh-token families created in them, as "Devices and apps" does for one.
    /// </summary>
    public async Task<int> EndOtherSessionsAsync(string subject, string keepSessionId, CancellationToken cancellationToken)
    {
        var others = await db.Sessions.AsNoTracking().Where(s => s.Subject == subject && s.Sid != keepSessionId)
            .Select(s => s.Sid).Distinct().ToListAsync(cancellationToken);
        if (others.Count == 0)
        {
            return 0;
        }

        var clients = await db.Authorizations.AsNoTracking()
            .Where(a => a.Subject == subject && a.SessionId != null && others.Contains(a.SessionId))
            .Select(a => new { a.SessionId, a.ApplicationId }).Distinct().ToListAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var ended = await db.Sessions.Where(s => s.Subject == subject && others.Contains(s.Sid)).ExecuteDeleteAsync(cancellationToken);
        foreach (var sid in others)
        {
            await grants.RevokeSessionAsync(sid, applicationId: null, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        foreach (var sid in others)
        {
            notifier.SessionEnded(subject, sid, clients.Where(c => c.SessionId == sid).Select(c => c.ApplicationId).ToList());
        }

        await audit.RecordSessionAsync(subject, "session.ended_others", clientId: null, new { SessionsEnded = ended });
        return ended;
    }

    /// <summary>"Sign out everywhere": every session ends and every grant of the person is revoked.</summary>
    public async Task<int> SignOutEverywhereAsync(string subject, CancellationToken cancellationToken)
    {
        var clients = await db.Authorizations.AsNoTracking()
            .Where(a => a.Subject == subject && a.Status == Statuses.Valid)
            .Select(a => a.ApplicationId).Distinct().ToListAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var sessions = await db.Sessions.Where(s => s.Subject == subject).ExecuteDeleteAsync(cancellationToken);
        var revoked = await grants.RevokeSubjectAsync(subject, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        notifier.SubjectSignedOut(subject, clients);
        await audit.RecordSessionAsync(subject, "session.signed_out_everywhere", clientId: null, new { SessionsEnded = sessions, GrantsRevoked = revoked });
        return sessions;
    }

    private async Task<string?> ClientIdAsync(string? applicationId, CancellationToken cancellationToken) => applicationId is null
        ? null
        : await db.Applications.AsNoTracking().Where(a => a.Id == applicationId).Select(a => a.ClientId).FirstOrDefaultAsync(cancellationToken);

    private Task<List<string>> ClientsOfSessionAsync(string subject, string sessionId, CancellationToken cancellationToken) =>
        db.Authorizations.AsNoTracking().Where(a => a.SessionId == sessionId && a.Subject == subject)
            .Select(a => a.ApplicationId).Distinct().ToListAsync(cancellationToken);

    /// <summary>
    /// Whether <paramref name="sessionId"/> names a sign-in of <paramref name="subject"/>: its row says so, or, once the
    /// row is gone (expired, ended), the grants created in it do. A session id is random and belongs to one sign-in of
    /// one person, whose grants carry it (AuthorizationCodeIssuer); one whose grants name anyone else is refused.
    /// </summary>
    private async Task<bool> IsSessionOfAsync(string subject, string sessionId, CancellationToken cancellationToken)
    {
        var owner = await db.Sessions.AsNoTracking().Where(s => s.Sid == sessionId).Select(s => s.Subject).FirstOrDefaultAsync(cancellationToken);
        if (owner is not null && owner != subject)
        {
            return false;
        }

        var grantOwners = await db.Authorizations.AsNoTracking().Where(a => a.SessionId == sessionId)
            .Select(a => a.Subject).Distinct().Take(2).ToListAsync(cancellationToken);
        return grantOwners.All(s => s == subject) && (owner is not null || grantOwners.Count > 0);
    }
}
