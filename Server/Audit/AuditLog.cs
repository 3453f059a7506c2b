using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Audit;

/// <summary>The filters of an audit query; every one optional. Newest first, <see cref="Limit"/> entries from <see cref="Offset"/>.</summary>
public sealed record AuditQuery
{
    public string? Kind { get; init; }
    public string? Action { get; init; }
    public string? Outcome { get; init; }
    public string? ActorId { get; init; }

    /// <summary>Entries by this user (the actor) or about them (the target <c>user:&lt;id&gt;</c>: an admin's change to the account, its grants, its sessions).</summary>
    public string? UserId { get; init; }

    /// <summary>Entries concerning this client: its events and the admin changes made to it (created, updated, secret rotated, disabled, deleted, grants revoked).</summary>
    public string? ClientId { get; init; }
    public string? Target { get; init; }
    public DateTime? From { get; init; }
    public DateTime? To { get; init; }
    public int Offset { get; init; }
    public int Limit { get; init; } = 100;
}

/// <summary>An audit entry as the admin API and the admin pages show it.</summary>
public sealed record AuditRecord(
    string Id, DateTime Timestamp, string Kind, string Action, string Outcome, string ActorId, string? ActorName, string Target,
    string? ClientId, string? IpAddress, string? Details);

/// <summary>
/// The audit log, and the only code that writes the AuditEntries table: security events and admin changes, each with
/// time, actor, address, client and outcome. Each kind of event has its own entry point, which fixes the kind and how the
/// actor and the target are named; callers give the action, the outcome and small JSON-able details: never a password,
/// a secret or a token (identifiers such as a jti or a grant id are fine: they open nothing).
/// </summary>
/// <remarks>
/// Two ways of writing, both deliberate:
/// <list type="bullet">
/// <item>The <c>Record…Async</c> methods of security events write at once, on a database context of their own, so an
/// event is kept whatever the request does next (a failed sign-in is recorded although nothing else is saved), and never
/// save someone else's pending changes. They must not be called inside a database transaction of the request (SQLite
/// allows one writer at a time), and are deliberately not cancelled with the request: a caller hanging up right after a
/// failed attempt must not keep it out of the log.</item>
/// <item>The <c>Add…</c> methods put the entry in the request's unit of work (the scoped <see cref="IdentityDbContext"/>),
/// so the change and its record are saved together, or not at all. <see cref="RecordAdminChangeAsync"/> saves that unit
/// of work at once, for a change already made by a bulk statement.</item>
/// </list>
/// </remarks>
public sealed class AuditLog(IdentityDbContext db, IServiceScopeFactory scopes, IHttpContextAccessor http, TimeProvider time, ILogger<AuditLog> logger)
{
    /// <summary>The actor of an attempt by someone not (yet) known: a failed sign-in with an unknown name.</summary>
    public const string Anonymous = "anonymous";

    public const int MaximumLimit = 1000;

    private const string ClientPrefix = "client:";

    private static readonly JsonSerializerOptions DetailsJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Admin changes keep their null values: a value cleared by the change is part of what changed.</summary>
    private static readonly JsonSerializerOptions AdminDetailsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// A sign-in of a person (password, provider) or a registration. A null <paramref name="user"/> is an attempt by
    /// someone unknown: recorded as <see cref="Anonymous"/> on <c>user:unknown</c>, without the typed name (it may be a
    /// mistyped password).
    /// </summary>
    public Task RecordSignInAsync(ApplicationUser? user, string action, string outcome, string? clientId, object? details = null) =>
        WriteNowAsync(new Event(AuditKinds.SignIn, action, outcome, user?.Id ?? Anonymous, user is null ? "user:unknown" : UserTarget(user.Id))
        {
            ActorName = user?.UserName,
            ClientId = clientId,
            Details = details,
        });

    /// <summary>
    /// A change of the person's own account (password, email, profile) or the attempt to. A null <paramref name="user"/>
    /// is a request about an account nobody could be found for (a password reset for an unknown address): recorded as
    /// <see cref="Anonymous"/> on <c>user:unknown</c>, without the typed address.
    /// </summary>
    public Task RecordAccountAsync(ApplicationUser? user, string action, string outcome, object? details = null) =>
        WriteNowAsync(new Event(AuditKinds.Account, action, outcome, user?.Id ?? Anonymous, user is null ? "user:unknown" : UserTarget(user.Id))
        {
            ActorName = user?.UserName,
            Details = details,
        });

    /// <summary>A provider account linked to, or unlinked from, the person (or the attempt to).</summary>
    public Task RecordExternalLoginAsync(ApplicationUser user, string action, string outcome, string? clientId, object? details)
    {
        ArgumentNullException.ThrowIfNull(user);
        return WriteNowAsync(new Event(AuditKinds.ExternalLogin, action, outcome, user.Id, UserTarget(user.Id))
        {
            ActorName = user.UserName,
            ClientId = clientId,
            Details = details,
        });
    }

    /// <summary>Sessions of <paramref name="subject"/> ended, by the person or by an admin for them (the actor is whoever is signed in to the request).</summary>
    public Task RecordSessionAsync(string subject, string action, string? clientId, object? details) =>
        WriteNowAsync(PersonEvent(AuditKinds.Session, action, subject, clientId, details));

    /// <summary>An app's grants taken back by the person (or by an admin for them), remembered consent included.</summary>
    public Task RecordConsentRevokedAsync(string subject, string? clientId, object? details) =>
        WriteNowAsync(PersonEvent(AuditKinds.Consent, "consent.revoked", subject, clientId, details));

    /// <summary>A person's answer on the device user-code page (RFC 8628 §3.3): a device approved or denied.</summary>
    public Task RecordDeviceDecisionAsync(string subject, string action, string? clientId, object? details) =>
        WriteNowAsync(PersonEvent(AuditKinds.Consent, action, subject, clientId, details));

    /// <summary>Consent given on the consent page: added to the request's unit of work, saved with the consent itself.</summary>
    public void AddConsentGranted(string subject, string? clientId, object? details) =>
        db.AuditEntries.Add(Row(new Event(AuditKinds.Consent, "consent.granted", AuditOutcomes.Success, subject, ClientPrefix + clientId)
        {
            ClientId = clientId,
            Details = details,
        }, DetailsJson));

    /// <summary>A token security event of a client acting on its own behalf: reuse, replay, revocation (RFC 7009).</summary>
    public Task RecordTokenEventAsync(string clientId, string action, string outcome, string target, object? details) =>
        WriteNowAsync(new Event(AuditKinds.Token, action, outcome, ClientPrefix + clientId, target)
        {
            ClientId = clientId,
            Details = details,
        });

    /// <summary>
    /// An admin change, added to the request's unit of work: the change and its record are saved together (or not at
    /// all). A <c>client:&lt;client_id&gt;</c> target also fills the entry's client; a change to a person that concerns a
    /// client (their grants for it) names the person as the target and the client as <paramref name="clientId"/>, so that
    /// filtering by either finds it.
    /// </summary>
    public void AddAdminChange(AdminActor actor, string action, string target, object? details = null, string? clientId = null)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(target);
        db.AuditEntries.Add(Row(new Event(AuditKinds.Admin, action, AuditOutcomes.Success, actor.Id, target)
        {
            ActorName = actor.Name,
            ClientId = clientId ?? (target.StartsWith(ClientPrefix, StringComparison.Ordinal) ? target[ClientPrefix.Length..] : null),
            Details = details,
        }, AdminDetailsJson));
    }

    /// <summary>Records an admin change that was already made by a bulk statement (for example revoking grants): adds it and saves the unit of work.</summary>
    public async Task RecordAdminChangeAsync(AdminActor actor, string action, string target, object? details, CancellationToken cancellationToken, string? clientId = null)
    {
        AddAdminChange(actor, action, target, details, clientId);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The entries matching <paramref name="query"/>, newest first: the admin API's listing and the admin pages' audit page.</summary>
    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
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

        if (!string.IsNullOrEmpty(query.UserId))
        {
            var userTarget = UserTarget(query.UserId);
            rows = rows.Where(e => e.ActorId == query.UserId || e.Target == userTarget);
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

    private static string? AddressOf(HttpContext? context)
    {
        var address = context?.Connection.RemoteIpAddress;
        if (address is { IsIPv4MappedToIPv6: true })
        {
            address = address.MapToIPv4();
        }

        return address?.ToString();
    }

    private static string UserTarget(string userId) => "user:" + userId;

    /// <summary>An event of the person <paramref name="subject"/>, acted by whoever is signed in to the request (the person, or an admin for them).</summary>
    private Event PersonEvent(string kind, string action, string subject, string? clientId, object? details) =>
        new(kind, action, AuditOutcomes.Success, http.HttpContext?.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? subject, UserTarget(subject))
        {
            ClientId = clientId,
            Details = details,
        };

    private async Task WriteNowAsync(Event entry)
    {
        await using var scope = scopes.CreateAsyncScope();
        var own = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        own.AuditEntries.Add(Row(entry, DetailsJson));
        await own.SaveChangesAsync(CancellationToken.None);
        logger.LogInformation("Audit: {Action} {Outcome} by {ActorId} on {Target} (client {ClientId})",
            entry.Action, entry.Outcome, entry.ActorId, entry.Target, entry.ClientId);
    }

    private AuditEntry Row(Event entry, JsonSerializerOptions detailsJson) => new()
    {
        Timestamp = time.GetUtcNow().UtcDateTime,
        Kind = entry.Kind,
        Action = entry.Action,
        Outcome = entry.Outcome,
        ActorId = Truncate(entry.ActorId, 450)!,
        ActorName = Truncate(entry.ActorName, 256),
        Target = Truncate(entry.Target, 300)!,
        ClientId = Truncate(entry.ClientId, 100),
        IpAddress = AddressOf(http.HttpContext),
        Details = entry.Details is null ? null : JsonSerializer.Serialize(entry.Details, detailsJson),
    };

    private static string? Truncate(string? value, int length) => value is { } v && v.Length > length ? v[..length] : value;

    /// <summary>
    /// One entry before it becomes a row. <see cref="ActorId"/> is a user id, <c>client:&lt;client_id&gt;</c>, an admin
    /// actor or <see cref="Anonymous"/>; <see cref="Target"/> names what it concerned (<c>user:&lt;id&gt;</c>,
    /// <c>client:&lt;client_id&gt;</c>, <c>grant:&lt;id&gt;</c>).
    /// </summary>
    private sealed record Event(string Kind, string Action, string Outcome, string ActorId, string Target)
    {
        public string? ActorName { get; init; }
        public string? ClientId { get; init; }
        public object? Details { get; init; }
    }
}

public static class AuditRegistration
{
    public static IServiceCollection AddAuditLog(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        // Scoped: the Add… methods write into the request's unit of work (its IdentityDbContext).
        services.AddScoped<AuditLog>();
        return services;
    }
}
