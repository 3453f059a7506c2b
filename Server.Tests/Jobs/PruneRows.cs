using IdentityServer.Data;
using IdentityServer.Jobs;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace IdentityServer.Tests.Jobs;

/// <summary>
/// Rows written straight into the server's database for a pruning test, each under a readable name, so a test can
/// state which names must survive a prune. Dates are taken from the server's fake clock.
/// </summary>
internal sealed class PruneRows(ServerFactory server, string applicationId)
{
    private readonly Dictionary<string, string> _grants = [];
    private readonly Dictionary<string, string> _tokens = [];
    private readonly Dictionary<string, string> _jtis = [];
    private readonly Dictionary<string, string> _sessions = [];
    private readonly Dictionary<string, string> _registrationTokens = [];
    private readonly Dictionary<string, string> _dpopProofs = [];
    private readonly List<object> _pending = [];

    public static async Task<PruneRows> CreateAsync(ServerFactory server)
    {
        var client = await TestData.CreateClientAsync(server);
        return new PruneRows(server, client.ApplicationId);
    }

    public DateTime Now => server.Time.GetUtcNow().UtcDateTime;

    public IEnumerable<string> AllNames =>
        _grants.Keys.Concat(_tokens.Keys).Concat(_jtis.Keys).Concat(_sessions.Keys).Concat(_registrationTokens.Keys).Concat(_dpopProofs.Keys);

    public string Grant(string name, string type, string status, DateTime? expires = null, DateTime? created = null)
    {
        var grant = new OAuthAuthorization
        {
            ApplicationId = applicationId,
            Subject = "subject-" + applicationId,
            Type = type,
            Status = status,
            CreationDate = created ?? Now,
            ExpirationDate = expires,
        };
        _grants.Add(name, grant.Id);
        _pending.Add(grant);
        return grant.Id;
    }

    public void Token(string name, string? grant, string type, string status, DateTime expires, DateTime? created = null)
    {
        var token = new OAuthToken
        {
            ApplicationId = applicationId,
            AuthorizationId = grant is null ? null : _grants.GetValueOrDefault(grant, grant),
            Subject = "subject-" + applicationId,
            Type = type,
            Status = status,
            ReferenceId = Guid.NewGuid().ToString("N"),
            CreationDate = created ?? Now,
            ExpirationDate = expires,
            RedemptionDate = status == Statuses.Redeemed ? created ?? Now : null,
        };
        _tokens.Add(name, token.Id);
        _pending.Add(token);
    }

    public void RevokedJti(string name, DateTime expires)
    {
        var jti = Guid.NewGuid().ToString("N");
        _jtis.Add(name, jti);
        _pending.Add(new RevokedAccessToken { Jti = jti, ExpirationDate = expires });
    }

    public void Session(string name, DateTime expires)
    {
        var id = Guid.NewGuid().ToString("N");
        _sessions.Add(name, id);
        _pending.Add(new UserSession
        {
            Id = id,
            Sid = id,
            Subject = "subject-" + applicationId,
            CreationDate = Now,
            LastSeenDate = Now,
            AbsoluteExpirationDate = expires,
            ExpirationDate = expires,
        });
    }

    /// <summary>An initial access token for dynamic registration (RFC 7591 §3), valid until <paramref name="expires"/>.</summary>
    public void RegistrationToken(string name, DateTime expires)
    {
        var token = new InitialAccessToken
        {
            ReferenceId = Guid.NewGuid().ToString("N"),
            CreatedBy = "test",
            CreationDate = Now,
            ExpirationDate = expires,
            RemainingUses = 1,
        };
        _registrationTokens.Add(name, token.Id);
        _pending.Add(token);
    }

    /// <summary>An accepted DPoP proof's replay row (RFC 9449 §11.1), remembered until <paramref name="expires"/>.</summary>
    public void DPoPProof(string name, DateTime expires)
    {
        var id = Guid.NewGuid().ToString("N");
        _dpopProofs.Add(name, id);
        _pending.Add(new DPoPProofJti { Id = id, ExpirationDate = expires });
    }

    public async Task SaveAsync()
    {
        await server.WithDatabaseAsync(async db =>
        {
            db.AddRange(_pending);
            await db.SaveChangesAsync();
        });
        _pending.Clear();
    }

    /// <summary>The names of this test's rows still in the database, sorted.</summary>
    public async Task<List<string>> SurvivorsAsync()
    {
        var (grants, tokens, jtis, sessions, registrationTokens) = await server.WithDatabaseAsync(async db =>
        {
            var grantIds = _grants.Values.ToList();
            var tokenIds = _tokens.Values.ToList();
            var jtiIds = _jtis.Values.ToList();
            var sessionIds = _sessions.Values.ToList();
            var registrationTokenIds = _registrationTokens.Values.ToList();
            return (
                await db.Authorizations.Where(a => grantIds.Contains(a.Id)).Select(a => a.Id).ToListAsync(),
                await db.Tokens.Where(t => tokenIds.Contains(t.Id)).Select(t => t.Id).ToListAsync(),
                await db.RevokedAccessTokens.Where(r => jtiIds.Contains(r.Jti)).Select(r => r.Jti).ToListAsync(),
                await db.Sessions.Where(s => sessionIds.Contains(s.Id)).Select(s => s.Id).ToListAsync(),
                await db.InitialAccessTokens.Where(t => registrationTokenIds.Contains(t.Id)).Select(t => t.Id).ToListAsync());
        });
        var dpopIds = _dpopProofs.Values.ToList();
        var dpopProofs = await server.WithDatabaseAsync(db => db.DPoPProofJtis.Where(p => dpopIds.Contains(p.Id)).Select(p => p.Id).ToListAsync());
        return Named(_grants, grants).Concat(Named(_tokens, tokens)).Concat(Named(_jtis, jtis)).Concat(Named(_sessions, sessions))
            .Concat(Named(_registrationTokens, registrationTokens)).Concat(Named(_dpopProofs, dpopProofs))
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The server's pruning service, or one with another batch size.</summary>
    public PruneService Pruner(int? batchSize = null) => batchSize is null
        ? server.Services.GetRequiredService<PruneService>()
        : new PruneService(
            server.Services.GetRequiredService<IServiceScopeFactory>(),
            server.Services.GetServices<IPruneStep>(),
            new PruningOptions { BatchSize = batchSize.Value },
            server.Time,
            server.Services.GetRequiredService<IdentityServer.Hosting.ServerMetrics>(),
            NullLogger<PruneService>.Instance);

    private static IEnumerable<string> Named(Dictionary<string, string> names, List<string> ids)
    {
        var present = ids.ToHashSet(StringComparer.Ordinal);
        return names.Where(n => present.Contains(n.Value)).Select(n => n.Key);
    }
}
