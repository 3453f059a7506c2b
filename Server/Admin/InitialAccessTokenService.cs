using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Protocol;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Admin;

/// <summary>
/// Initial access tokens (RFC 7591 §3): an admin issues one, gives it to a developer, and it lets that developer
/// register clients dynamically until it expires or its uses run out. Opaque, 256 bits, stored as SHA-256 only. The
/// registration endpoint checks and spends them (<see cref="InitialAccessTokens"/>).
/// </summary>
public sealed class InitialAccessTokenService(IdentityDbContext db, AuditLog audit, DynamicRegistrationOptions options, TimeProvider time)
{
    public const int MaxUses = 1000;
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(365);

    public static string AuditTarget(string id) => "initial_access_token:" + id;

    public async Task<AdminResult<InitialAccessTokenModel>> IssueAsync(string? description, TimeSpan? lifetime, int? uses, AdminActor actor,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var expiresIn = lifetime ?? options.InitialAccessTokenLifetime;
        var maxUses = uses ?? 1;
        if (expiresIn < TimeSpan.FromMinutes(1) || expiresIn > MaxLifetime)
        {
            return Invalid("expires_in", $"expires_in must be between 60 and {MaxLifetime.TotalSeconds:0} seconds.");
        }

        if (maxUses is < 1 or > MaxUses)
        {
            return Invalid("max_uses", $"max_uses must be between 1 and {MaxUses}.");
        }

        if (description?.Length > 200)
        {
            return Invalid("description", "description is limited to 200 characters.");
        }

        var (value, hash) = OpaqueToken.Create();
        var now = time.GetUtcNow().UtcDateTime;
        var row = new InitialAccessToken
        {
            ReferenceId = hash,
            Description = description,
            CreatedBy = actor.Id,
            CreationDate = now,
            ExpirationDate = now + expiresIn,
            RemainingUses = maxUses,
        };
        db.InitialAccessTokens.Add(row);
        audit.AddAdminChange(actor, "initial_access_token.issued", AuditTarget(row.Id), new { description, row.ExpirationDate, MaxUses = maxUses });
        await db.SaveChangesAsync(cancellationToken);
        return AdminResult.Ok<InitialAccessTokenModel>(Model(row) with { Token = value });
    }

    public async Task<IReadOnlyList<InitialAccessTokenModel>> ListAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var rows = await db.InitialAccessTokens.AsNoTracking().Where(t => t.ExpirationDate > now && t.RemainingUses > 0)
            .OrderByDescending(t => t.CreationDate).ToListAsync(cancellationToken);
        return rows.Select(Model).ToList();
    }

    public async Task<bool> RevokeAsync(string id, AdminActor actor, CancellationToken cancellationToken)
    {
        var deleted = await db.InitialAccessTokens.Where(t => t.Id == id).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            await audit.RecordAdminChangeAsync(actor, "initial_access_token.revoked", AuditTarget(id), null, cancellationToken);
        }

        return deleted > 0;
    }

    private static InitialAccessTokenModel Model(InitialAccessToken row) =>
        new(row.Id, row.Description, row.CreatedBy, DateTime.SpecifyKind(row.CreationDate, DateTimeKind.Utc),
            DateTime.SpecifyKind(row.ExpirationDate, DateTimeKind.Utc), row.RemainingUses);

    private static AdminResult<InitialAccessTokenModel> Invalid(string field, string description) =>
        AdminResult.Invalid<InitialAccessTokenModel>(new ClientMetadataError(RegistrationErrors.InvalidRequest, description, field));
}
