using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tokens;

/// <summary>
/// The lookups behind every authorization, code redemption, refresh, introspection and signed-in request, compiled once. A LINQ query is otherwise walked
/// on each call (parameter extraction, query-cache key): about 22 of the 59 µs a liveness check cost (EF Core 10,
/// SQLite). EF Core binds a compiled query to the model it first runs against, so each server (and so each database
/// provider, in a test run hosting several) has its own instance: a singleton, never a static.
/// </summary>
public sealed class GrantQueries
{
    public Func<IdentityDbContext, string, CancellationToken, Task<OAuthToken?>> TokenByReference { get; } =
        EF.CompileAsyncQuery((IdentityDbContext db, string referenceId, CancellationToken _) =>
            db.Tokens.AsNoTracking().Include(t => t.Authorization).FirstOrDefault(t => t.ReferenceId == referenceId));

    public Func<IdentityDbContext, string, CancellationToken, Task<bool>> JtiRevoked { get; } =
        EF.CompileAsyncQuery((IdentityDbContext db, string jti, CancellationToken _) =>
            db.RevokedAccessTokens.Any(r => r.Jti == jti));

    public Func<IdentityDbContext, string, string, CancellationToken, Task<bool>> GrantLiveAndJtiNotRevoked { get; } =
        EF.CompileAsyncQuery((IdentityDbContext db, string authorizationId, string jti, CancellationToken _) =>
            db.Authorizations.Any(a => a.Id == authorizationId && a.Status == Statuses.Valid
                && !db.RevokedAccessTokens.Any(r => r.Jti == jti)));

    public Func<IdentityDbContext, string, CancellationToken, Task<ApplicationUser?>> UserById { get; } =
        EF.CompileAsyncQuery((IdentityDbContext db, string id, CancellationToken _) =>
            db.Users.AsNoTracking().FirstOrDefault(u => u.Id == id));

    public Func<IdentityDbContext, string, CancellationToken, Task<UserSession?>> SessionById { get; } =
        EF.CompileAsyncQuery((IdentityDbContext db, string id, CancellationToken _) =>
            db.Sessions.AsNoTracking().FirstOrDefault(s => s.Id == id));
}
