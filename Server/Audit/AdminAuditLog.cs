using System.Text.Json;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Audit;

/// <summary>An entry of the admin audit log as the API and pages show it.</summary>
public sealed record AuditEntryView(DateTime Timestamp, string ActorId, string? ActorName, string Action, string Target, string? Details);

/// <summary>
/// Records every admin change: who, what, to what, when. <see cref="Add"/> puts the entry in the caller's unit of work,
/// so the change and its record are saved together (or not at all). Written by the admin services, and below them by the
/// client registry (configuration seeding, dynamic registration); listed by the admin pages.
/// </summary>
public sealed class AdminAuditLog(IdentityDbContext db, TimeProvider time, IHttpContextAccessor http)
{
    private static readonly JsonSerializerOptions DetailsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public void Add(AdminActor actor, string action, string target, object? details = null)
    {
        ArgumentNullException.ThrowIfNull(actor);
        db.AuditEntries.Add(new AuditEntry
        {
            Timestamp = time.GetUtcNow().UtcDateTime,
            ActorId = actor.Id,
            ActorName = actor.Name,
            Action = action,
            Target = target,
            Details = details is null ? null : JsonSerializer.Serialize(details, DetailsJson),
            // The general audit log's columns (Kind and Outcome keep their defaults: an admin change that was made).
            IpAddress = AuditLog.AddressOf(http.HttpContext),
            ClientId = target.StartsWith("client:", StringComparison.Ordinal) ? target["client:".Length..] : null,
        });
    }

    /// <summary>Records a change that was already made by a bulk statement (for example revoking grants).</summary>
    public async Task RecordAsync(AdminActor actor, string action, string target, object? details, CancellationToken cancellationToken)
    {
        Add(actor, action, target, details);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The newest entries first, optionally about one target (for example <c>client:web</c>).</summary>
    public async Task<IReadOnlyList<AuditEntryView>> ListAsync(int limit, string? target, CancellationToken cancellationToken)
    {
        var query = db.AuditEntries.AsNoTracking();
        if (!string.IsNullOrEmpty(target))
        {
            query = query.Where(e => e.Target == target);
        }

        var rows = await query.OrderByDescending(e => e.Timestamp).Take(Math.Clamp(limit, 1, 1000)).ToListAsync(cancellationToken);
        return rows.Select(e => new AuditEntryView(DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc), e.ActorId, e.ActorName, e.Action, e.Target, e.Details)).ToList();
    }
}
