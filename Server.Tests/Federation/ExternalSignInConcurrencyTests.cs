using IdentityServer.Accounts.Federation;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Tokens;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// The same provider account arriving at several callbacks at once (double-clicks, two tabs) on PostgreSQL, where the
/// transactions really overlap: exactly one user is created, the others roll back and find it, none is left half-made.
/// (It shares the PostgreSQL host of the token tests rather than starting another.)
/// </summary>
[Collection(PostgresTokenServer.Name)]
public sealed class ExternalSignInConcurrencyTests(PostgresServer server)
{
    [Fact]
    public async Task Concurrent_first_sign_ins_with_one_provider_account_create_exactly_one_user()
    {
        var key = "race-" + Guid.NewGuid().ToString("N");
        var email = key + "@example.org";
        var profile = ExternalProfile.Create(key, email, emailVerified: true, "Racing Person", "racer", picture: null);
        using var start = new SemaphoreSlim(0);

        var attempts = Enumerable.Range(0, 6).Select(async _ =>
        {
            await using var scope = server.Services.CreateAsyncScope();
            var federation = scope.ServiceProvider.GetRequiredService<ExternalSignIn>();
            await start.WaitAsync();
            return await federation.ResolveAsync(new UserLoginInfo("Google", key, "Google"), profile, CancellationToken.None);
        }).ToList();
        start.Release(attempts.Count);
        var results = await Task.WhenAll(attempts);

        Assert.All(results, r => Assert.NotNull(r.User));
        var userId = Assert.Single(results.Select(r => r.User!.Id).Distinct());
        Assert.Equal(1, results.Count(r => r.Outcome == ExternalSignInOutcome.Created));
        var normalized = email.ToUpperInvariant();
        Assert.Equal(1, await server.WithDatabaseAsync(db => db.Users.CountAsync(u => u.NormalizedEmail == normalized)));
        Assert.Equal(userId, await server.WithDatabaseAsync(db => db.UserLogins.Where(l => l.ProviderKey == key).Select(l => l.UserId).SingleAsync()));
    }
}
