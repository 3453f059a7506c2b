using IdentityServer.Data;
using IdentityServer.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Accounts.Sessions;

/// <summary>
/// Keeps sign-in sessions in the database (<see cref="ITicketStore"/>). The cookie carries only the session's key: 256
/// random bits, of which the row keeps only the SHA-256 (<see cref="UserSession.Id"/>), so a read of the table (a backup,
/// a leaked dump, an injection) yields no key to put in a cookie. The session's public id, the <c>sid</c> claim of ID and
/// logout tokens, is another value (<see cref="UserSession.Sid"/>), by which logout and "Devices and apps" end it.
/// Deleting the row ends the session on every instance at once. "Last seen" is written at most once a minute per
/// session, so an active browser does not turn every request into a write.
/// </summary>
public sealed class DatabaseTicketStore(IServiceScopeFactory scopes, SignInSessionOptions options, TimeProvider time, AccountQueries queries)
    : ITicketStore
{
    private static readonly TimeSpan LastSeenResolution = TimeSpan.FromMinutes(1);

    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, null!, CancellationToken.None);

    public async Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        var now = Now;
        var (key, id) = OpaqueToken.Create();
        var sid = ticket.Principal.FindFirst(SignInSession.SessionIdClaim)?.Value ?? OpaqueToken.NewId();
        var subject = ticket.Principal.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value ?? "";
        var absoluteEnd = now + options.AbsoluteLifetime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        db.Sessions.Add(new UserSession
        {
            Id = id,
            Sid = sid,
            Subject = subject,
            Ticket = TicketSerializer.Default.Serialize(ticket),
            CreationDate = now,
            LastSeenDate = now,
            AbsoluteExpirationDate = absoluteEnd,
            ExpirationDate = Min(now + options.IdleTimeout, absoluteEnd),
            UserAgent = Truncate(httpContext?.Request.Headers.UserAgent.ToString(), 512),
            IpAddress = httpContext?.Connection.RemoteIpAddress?.ToString(),
        });
        await db.SaveChangesAsync(cancellationToken);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, null!, CancellationToken.None);

    /// <summary>
    /// Saves a renewed ticket (sliding expiration, a refreshed principal) under the same key, or, when the ticket is a
    /// new sign-in (its <c>sid</c> is not the stored session's), replaces the session (<see cref="ReplaceAsync"/>).
    /// </summary>
    public async Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        // A second sign-in in the request that replaced the session renews the new one, whose key only this request knows.
        var id = OpaqueToken.Hash(SessionKeyRotation.NewKey(httpContext) ?? key);
        var sid = ticket.Principal.FindFirst(SignInSession.SessionIdClaim)?.Value;
        var now = Now;
        var bytes = TicketSerializer.Default.Serialize(ticket);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        var idleEnd = now + options.IdleTimeout;
        var renewed = await db.Sessions.Where(s => s.Id == id && (sid == null || s.Sid == sid)).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.Ticket, bytes)
            .SetProperty(x => x.LastSeenDate, now)
            .SetProperty(x => x.ExpirationDate, x => x.AbsoluteExpirationDate < idleEnd ? x.AbsoluteExpirationDate : idleEnd), cancellationToken);
        if (renewed > 0 || sid is null)
        {
            return;
        }

        var previous = await db.Sessions.AsNoTracking().Where(s => s.Id == id).Select(s => new { s.Subject, s.Sid }).FirstOrDefaultAsync(cancellationToken);
        if (previous is not null)
        {
            await ReplaceAsync(id, previous.Subject, previous.Sid, scope.ServiceProvider, ticket, httpContext, cancellationToken);
        }

        // No row: the session ended meanwhile (signed out elsewhere). Storing the ticket would bring it back; the
        // cookie's key now finds nothing, and the person signs in again.
    }

    /// <summary>
    /// A sign-in in a browser that already has a session: the cookie handler renews the session key it read from the
    /// request instead of storing a new one (dotnet/aspnetcore#22135). Keeping that key would let whoever planted it in
    /// the browser ride the new sign-in (session fixation), so the old session ends here: when it was another person's,
    /// as if they had signed out (grants revoked, apps notified); either way its row is deleted. The new sign-in is
    /// stored under a fresh key, and <see cref="SessionKeyRotation"/> puts that key in the cookie.
    /// </summary>
    private async Task ReplaceAsync(string id, string previousSubject, string previousSid, IServiceProvider services, AuthenticationTicket ticket,
        HttpContext httpContext, CancellationToken cancellationToken)
    {
        var subject = ticket.Principal.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value;
        if (previousSubject != subject)
        {
            await services.GetRequiredService<SessionService>().EndSessionAsync(previousSubject, previousSid, cancellationToken);
        }

        var db = services.GetRequiredService<IdentityDbContext>();
        await db.Sessions.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
        SessionKeyRotation.Replace(httpContext, await StoreAsync(ticket, httpContext, cancellationToken));
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, null!, CancellationToken.None);

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        var now = Now;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        var id = OpaqueToken.Hash(key);
        // Runs on every request of a signed-in person, so it is retried when a connection drops (IdempotentRetry): the read
        // and both writes are idempotent (delete by key; set absolute values), a second run ends in the state of one.
        return await IdempotentRetry.RunAsync(db, async ct =>
        {
            var session = await queries.SessionById(db, id, ct);
            if (session is null)
            {
                return null; // ended (signed out, revoked from the account page or by an admin)
            }

            if (session.ExpirationDate <= now)
            {
                await db.Sessions.Where(s => s.Id == id).ExecuteDeleteAsync(ct);
                return null;
            }

            if (now - session.LastSeenDate >= LastSeenResolution)
            {
                var idleEnd = now + options.IdleTimeout;
                await db.Sessions.Where(s => s.Id == id).ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.LastSeenDate, now)
                    .SetProperty(x => x.ExpirationDate, x => x.AbsoluteExpirationDate < idleEnd ? x.AbsoluteExpirationDate : idleEnd), ct);
            }

            return TicketSerializer.Default.Deserialize(session.Ticket);
        }, cancellationToken);
    }

    public Task RemoveAsync(string key) => RemoveAsync(key, null!, CancellationToken.None);

    public async Task RemoveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        var id = OpaqueToken.Hash(key);
        await db.Sessions.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static string? Truncate(string? value, int length) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= length ? value : value[..length];
}
