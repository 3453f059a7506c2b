using IdentityServer.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Accounts.Sessions;

/// <summary>
/// Keeps sign-in sessions in the database (<see cref="ITicketStore"/>): the cookie carries only the session id, which
/// is also the <c>sid</c> claim. Deleting the row ends the session on every instance at once. "Last seen" is written
/// at most once a minute per session, so an active browser does not turn every request into a write.
/// </summary>
public sealed class DatabaseTicketStore(IServiceScopeFactory scopes, SignInSessionOptions options, TimeProvider time, AccountQueries queries)
    : ITicketStore
{
    private static readonly TimeSpan LastSeenResolution = TimeSpan.FromMinutes(1);

    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, null!, CancellationToken.None);

    public async Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        var now = Now;
        var id = ticket.Principal.FindFirst(SignInSession.SessionIdClaim)?.Value ?? Tokens.OpaqueToken.NewId();
        var subject = ticket.Principal.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value ?? "";
        var absoluteEnd = now + options.AbsoluteLifetime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        db.Sessions.Add(new UserSession
        {
            Id = id,
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
        return id;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, null!, CancellationToken.None);

    public async Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        if (ticket.Principal.FindFirst(SignInSession.SessionIdClaim)?.Value is { } sid && sid != key)
        {
            await ReplaceAsync(key, sid, ticket, httpContext, cancellationToken);
            return;
        }

        var now = Now;
        var bytes = TicketSerializer.Default.Serialize(ticket);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        var idleEnd = now + options.IdleTimeout;
        await db.Sessions.Where(s => s.Id == key).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.Ticket, bytes)
            .SetProperty(x => x.LastSeenDate, now)
            .SetProperty(x => x.ExpirationDate, x => x.AbsoluteExpirationDate < idleEnd ? x.AbsoluteExpirationDate : idleEnd), cancellationToken);
    }

    /// <summary>
    /// A sign-in in a browser that already has a session: the cookie handler renews the session key it read from the
    /// request instead of storing a new one (dotnet/aspnetcore#22135). Keeping that key would let whoever planted it in
    /// the browser ride the new sign-in (session fixation), so the old session ends here: when it was another person's,
    /// as if they had signed out (grants revoked, apps notified); either way its row is deleted. The new sign-in is
    /// stored under its own fresh sid, and <see cref="SessionKeyRotation"/> puts that key in the cookie.
    /// </summary>
    private async Task ReplaceAsync(string key, string sid, AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
            var previous = await db.Sessions.AsNoTracking().Where(s => s.Id == key).Select(s => s.Subject).FirstOrDefaultAsync(cancellationToken);
            var subject = ticket.Principal.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value;
            if (previous is not null && previous != subject)
            {
                await scope.ServiceProvider.GetRequiredService<SessionService>().EndSessionAsync(previous, key, cancellationToken);
            }

            await db.Sessions.Where(s => s.Id == key).ExecuteDeleteAsync(cancellationToken);
            if (await db.Sessions.AnyAsync(s => s.Id == sid, cancellationToken))
            {
                // This request stored the new session already (a second sign-in call): renew that one.
                await RenewAsync(sid, ticket, httpContext, cancellationToken);
                SessionKeyRotation.Replace(httpContext, sid);
                return;
            }
        }

        await StoreAsync(ticket, httpContext, cancellationToken);
        SessionKeyRotation.Replace(httpContext, sid);
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, null!, CancellationToken.None);

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        var now = Now;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        // Runs on every request of a signed-in person, so it is retried when a connection drops (IdempotentRetry): the read
        // and both writes are idempotent (delete by key; set absolute values), a second run ends in the state of one.
        return await IdempotentRetry.RunAsync(db, async ct =>
        {
            var session = await queries.SessionById(db, key, ct);
            if (session is null)
            {
                return null; // ended (signed out, revoked from the account page or by an admin)
            }

            if (session.ExpirationDate <= now)
            {
                await db.Sessions.Where(s => s.Id == key).ExecuteDeleteAsync(ct);
                return null;
            }

            if (now - session.LastSeenDate >= LastSeenResolution)
            {
                var idleEnd = now + options.IdleTimeout;
                await db.Sessions.Where(s => s.Id == key).ExecuteUpdateAsync(s => s
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
        await db.Sessions.Where(s => s.Id == key).ExecuteDeleteAsync(cancellationToken);
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static string? Truncate(string? value, int length) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= length ? value : value[..length];
}
