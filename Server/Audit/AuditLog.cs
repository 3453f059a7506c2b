using System.Security.Claims;
using System.Text.Json;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Audit;

/// <summary>
/// One event for the audit log. <paramref name="ActorId"/> is a user id, <c>client:&lt;client_id&gt;</c> or
/// <see cref="AuditLog.Anonymous"/>; <paramref name="Target"/> names what it concerned (<c>user:&lt;id&gt;</c>,
/// <c>client:&lt;client_id&gt;</c>, <c>grant:&lt;id&gt;</c>). Details are small JSON-able values: never a password, a
/// secret or a token (identifiers such as a jti or a grant id are fine: they open nothing).
/// </summary>
public sealed record AuditEvent(string Kind, string Action, string Outcome, string ActorId, string Target)
{
    public string? ActorName { get; init; }
    public string? ClientId { get; init; }
    public object? Details { get; init; }
}

/// <summary>The filters of an audit query; every one optional. Newest first, <see cref="Limit"/> entries from <see cref="Offset"/>.</summary>
public sealed record AuditQuery
{
    public string? Kind { get; init; }
    public string? Action { get; init; }
    public string? Outcome { get; init; }
    public string? ActorId { get; init; }
    public string? ClientId { get; init; }
    public string? Target { get; init; }
    public DateTime? From { get; init; }
    public DateTime? To { get; init; }
    public int Offset { get; init; }
    public int Limit { get; init; } = 100;
}

/// <summary>An audit entry as the admin API shows it.</summary>
public sealed record AuditRecord(
    string Id, DateTime Timestamp, string Kind, string Action, string Outcome, string ActorId, string? ActorName, string Target,
    string? ClientId, string? IpAddress, string? Details);

/// <summary>
/// The audit log: security events and admin changes in one table (AuditEntries), each with time, actor, address,
/// client and outcome. <see cref="RecordAsync"/> writes at once, on a database context of its own, so an event is kept
/// whatever the request does next (a failed sign-in is recorded although nothing else is saved), and never saves
/// someone else's pending changes. It must not be called inside a database transaction of the request (SQLite allows
/// one writer at a time).
/// </summary>
public sealed class AuditLog(IServiceScopeFactory scopes, IHttpContextAccessor http, TimeProvider time, ILogger<AuditLog> logger)
{
    /// <summary>The actor of an attempt by someone not (yet) known: a failed sign-in with an unknown name.</summary>
    public const string Anonymous = "anonymous";

    public const int MaximumLimit = 1000;

    private static readonly JsonSerializerOptions DetailsJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The actor id of a client acting on its own behalf (token endpoints).</summary>
    public static string ClientActor(string clientId) => "client:" + clientId;

    /// <summary>
    /// Writes the event now. Deliberately not cancelled with the request: a caller hanging up right after a failed
    /// attempt must not keep it out of the log.
    /// </summary>
    public async Task RecordAsync(AuditEvent entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        db.AuditEntries.Add(ToRow(entry));
        await db.SaveChangesAsync(CancellationToken.None);
        logger.LogInformation("Audit: {Action} {Outcome} by {ActorId} on {Target} (client {ClientId})",
            entry.Action, entry.Outcome, entry.ActorId, entry.Target, entry.ClientId);
    }

    /// <summary>Adds the event to <paramref name="db"/>'s unit of work: saved together with the change it records, or not at all.</summary>
    public void Add(IdentityDbContext db, AuditEvent entry)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(entry);
        db.AuditEntries.Add(ToRow(entry));
    }

    /// <summary>The signed-in user of the current request (the person, or an admin), if any.</summary>
    public string? CurrentUserId => http.HttpContext?.User.FindFirstValue(ClaimTypes.NameIdentifier);

    /// <summary>The address of the current request (after trusted forwarded headers), or null outside a request.</summary>
    public string? CurrentAddress => AddressOf(http.HttpContext);

    internal static string? AddressOf(HttpContext? context)
    {
        var address = context?.Connection.RemoteIpAddress;
        if (address is { IsIPv4MappedToIPv6: true })
        {
            address = address.MapToIPv4();
        }

        return address?.ToString();
    }

    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        var rows = db.AuditEntries.AsNoTracking();
        if (!string.IsNullOrEmpty(query.Kind))
        {
            rows = rows.Where(e => e.Kind == query.Kind);
        }

        if (!string.IsNullOrEmpty(query.Action))
        {
            rows = rows.Where(e => e.Action == query.Action);
        }

        if (!string.IsNullOrEmpty(query.Outcome))
        {
            rows = rows.Where(e => e.Outcome == query.Outcome);
        }

        if (!string.IsNullOrEmpty(query.ActorId))
        {
            rows = rows.Where(e => e.ActorId == query.ActorId);
        }

        if (!string.IsNullOrEmpty(query.ClientId))
        {
            rows = rows.Where(e => e.ClientId == query.ClientId);
        }

        if (!string.IsNullOrEmpty(query.Target))
        {
            rows = rows.Where(e => e.Target == query.Target);
        }

        if (query.From is { } from)
        {
            var fromUtc = from.ToUniversalTime();
            rows = rows.Where(e => e.Timestamp >= fromUtc);
        }

        if (query.To is { } to)
        {
            var toUtc = to.ToUniversalTime();
            rows = rows.Where(e => e.Timestamp < toUtc);
        }

        // Newest first; the id breaks ties so that pages neither repeat nor skip entries of the same instant.
        var page = await rows.OrderByDescending(e => e.Timestamp).ThenByDescending(e => e.Id)
            .Skip(Math.Max(0, query.Offset))
            .Take(Math.Clamp(query.Limit, 1, MaximumLimit))
            .ToListAsync(cancellationToken);
        return page.Select(e => new AuditRecord(e.Id, DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc), e.Kind, e.Action, e.Outcome,
            e.ActorId, e.ActorName, e.Target, e.ClientId, e.IpAddress, e.Details)).ToList();
    }

    private AuditEntry ToRow(AuditEvent entry) => new()
    {
        Timestamp = time.GetUtcNow().UtcDateTime,
        Kind = entry.Kind,
        Action = entry.Action,
        Outcome = entry.Outcome,
        ActorId = Truncate(entry.ActorId, 450)!,
        ActorName = Truncate(entry.ActorName, 256),
        Target = Truncate(entry.Target, 300)!,
        ClientId = Truncate(entry.ClientId, 100),
        IpAddress = CurrentAddress,
        Details = entry.Details is null ? null : JsonSerializer.Serialize(entry.Details, DetailsJson),
    };

    private static string? Truncate(string? value, int length) => value is { } v && v.Length > length ? v[..length] : value;
}

public static class AuditRegistration
{
    public static IServiceCollection AddAuditLog(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddSingleton<AuditLog>();
        services.AddScoped<AdminAuditLog>();
        return services;
    }
}
