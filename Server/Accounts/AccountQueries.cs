using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Accounts;

/// <summary>
/// The account lookups that run on every authorization and every signed-in request, as EF Core compiled queries (a LINQ
/// query is otherwise walked on each call). EF Core binds a compiled query to the model it first runs against, so each
/// server (and so each database provider, in a test run hosting several) has its own instance: a singleton, never a
/// static.
/// </summary>
public sealed class AccountQueries
{
    public Func<IdentityDbContext, string, CancellationToken, Task<ApplicationUser?>> UserById { get; } =
        EF.CompileAsyncQuery((IdentityDbContext db, string id, CancellationToken _) =>
            db.Users.AsNoTracking().FirstOrDefault(u => u.Id == id));

    /// <summary>The session stored under a key's hash (<see cref="UserSession.Id"/>), not its sid.</summary>
    public Func<IdentityDbContext, string, CancellationToken, Task<UserSession?>> SessionById { get; } =
        EF.CompileAsyncQuery((IdentityDbContext db, string id, CancellationToken _) =>
            db.Sessions.AsNoTracking().FirstOrDefault(s => s.Id == id));
}
