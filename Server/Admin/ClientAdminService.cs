using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Admin;

public sealed record SecretRotation(string ClientSecret, DateTime? PreviousSecretExpiresAt);

/// <summary>A grant (remembered consent or a token family) a client holds for a person.</summary>
public sealed record GrantView(string Id, string Subject, string? UserName, string Type, IReadOnlyList<string> Scopes, DateTime CreatedAt,
    DateTime? ExpiresAt, string? SessionId);

/// <summary>
/// Registers and manages clients. Every change is audited in the same unit of work, and the client cache is invalidated
/// at once, so this instance applies it on the next request and the others within the cache's one second.
/// </summary>
public sealed class ClientAdminService(
    IdentityDbContext db,
    ClientStore store,
    ClientRegistry registry,
    TokenFamilies grants,
    RevocationNotices notices,
    AuditLog audit,
    AdminOptions options,
    TimeProvider time)
{
    /// <summary>The longest grace period a rotation may give the old secret.</summary>
    public static readonly TimeSpan MaxGracePeriod = TimeSpan.FromDays(90);

    public async Task<IReadOnlyList<ClientView>> ListAsync(CancellationToken cancellationToken)
    {
        var rows = await db.Applications.AsNoTracking().OrderBy(a => a.ClientId).ToListAsync(cancellationToken);
        return rows.Select(ClientRegistry.View).ToList();
    }

    /// <summary>
    /// The clients whose client_id or display name contains <paramref name="search"/> (all when empty), in client_id order,
    /// <paramref name="limit"/> from <paramref name="offset"/>; <c>More</c> says whether another page follows.
    /// </summary>
    public async Task<(IReadOnlyList<ClientView> Clients, bool More)> SearchAsync(string? search, int offset, int limit, CancellationToken cancellationToken)
    {
        var rows = db.Applications.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var text = search.Trim();
            rows = rows.Where(a => a.ClientId!.Contains(text) || (a.DisplayName != null && a.DisplayName.Contains(text)));
        }

        var page = await rows.OrderBy(a => a.ClientId).Skip(Math.Max(0, offset)).Take(limit + 1).ToListAsync(cancellationToken);
        return (page.Take(limit).Select(ClientRegistry.View).ToList(), page.Count > limit);
    }

    public async Task<ClientView?> GetAsync(string clientId, CancellationToken cancellationToken)
    {
        var row = await db.Applications.AsNoTracking().FirstOrDefaultAsync(a => a.ClientId == clientId, cancellationToken);
        return row is null ? null : ClientRegistry.View(row);
    }

    /// <summary>
    /// Registers a client (admin API, pages, CLI). A client given no scopes gets <c>openid</c>, so a new code-flow
    /// client can sign people in without further setup; give scopes to choose others.
    /// </summary>
    public async Task<AdminResult<ClientWithSecret>> CreateAsync(ClientDefinition definition, AdminActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Scopes.Count == 0)
        {
            definition.Scopes = [ScopeCatalog.OpenId];
        }

        var creation = await registry.CreateAsync(definition, actor, cancellationToken);
        return creation switch
        {
            { Created: { } created } => AdminResult.Ok(created),
            { Conflict: true } => AdminResult.Conflict<ClientWithSecret>(creation.Error!),
            _ => AdminResult.Invalid<ClientWithSecret>(creation.Error!),
        };
    }

    /// <summary>
    /// Registers a service account: a confidential client that may use client_credentials with the admin scope, and whose
    /// such tokens open the admin API (scripts with no person to sign in). Its secret is returned once.
    /// </summary>
    public async Task<AdminResult<ClientWithSecret>> CreateServiceAccountAsync(string clientId, string? displayName, AdminActor actor,
        CancellationToken cancellationToken)
    {
        var creation = await CreateAsync(new ClientDefinition
        {
            ClientId = clientId,
            DisplayName = displayName ?? "Admin service account " + clientId,
            ClientType = ClientTypes.Confidential,
            ConsentType = ConsentTypes.Implicit,
            GrantTypes = [GrantTypes.ClientCredentials],
            Scopes = [ScopeCatalog.Admin],
        }, actor, cancellationToken);
        if (creation.Outcome != AdminOutcome.Ok)
        {
            return creation;
        }

        var row = await db.Applications.FirstAsync(a => a.ClientId == clientId, cancellationToken);
        row.Permissions = ClientDefinition.Json(ClientDefinition.ReadArray(row.Permissions).Append(ClientDescriptor.AdminServiceAccountPermission));
        audit.AddAdminChange(actor, "client.service_account_created", ClientRegistry.AuditTarget(clientId));
        await db.SaveChangesAsync(cancellationToken);
        store.Invalidate(clientId);
        return creation;
    }

    /// <summary>
    /// Replaces a client's definition (the client_id stays). A client that becomes confidential without a secret gets
    /// one, returned here once; one that becomes public loses its secrets.
    /// </summary>
    public async Task<AdminResult<ClientWithSecret>> UpdateAsync(string clientId, ClientDefinition definition, AdminActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.ClientId is not null && definition.ClientId != clientId)
        {
            return AdminResult.Invalid<ClientWithSecret>(new ClientMetadataError(RegistrationErrors.InvalidClientMetadata, "client_id cannot be changed.", "client_id"));
        }

        definition.ClientId = clientId;
        if (await registry.ValidateAsync(definition, cancellationToken) is { } error)
        {
            return AdminResult.Invalid<ClientWithSecret>(error);
        }

        var row = await db.Applications.FirstOrDefaultAsync(a => a.ClientId == clientId, cancellationToken);
        if (row is null)
        {
            return AdminResult.NotFound<ClientWithSecret>();
        }

        definition.ApplyTo(row);
        string? secret = null;
        if (definition.UsesSecret && row.ClientSecretHash is null)
        {
            secret = ClientSecrets.Generate();
            row.ClientSecretHash = ClientSecrets.Hash(secret);
        }

        audit.AddAdminChange(actor, "client.updated", ClientRegistry.AuditTarget(clientId), definition);
        return await SaveAsync(row, cancellationToken) is { } conflict
            ? AdminResult.Conflict<ClientWithSecret>(conflict)
            : AdminResult.Ok<ClientWithSecret>(new ClientWithSecret(ClientRegistry.View(row), secret));
    }

    /// <summary>Deletes a client; its grants and tokens go with it (cascade), so its refresh tokens die and its access tokens introspect inactive.</summary>
    public async Task<bool> DeleteAsync(string clientId, AdminActor actor, CancellationToken cancellationToken)
    {
        var row = await db.Applications.FirstOrDefaultAsync(a => a.ClientId == clientId, cancellationToken);
        if (row is null)
        {
            return false;
        }

        // The client's tokens go first, by name: SQL Server allows one cascade path to them, so the database cascades
        // through grants only (docs/operations.md, SQL Server). One transaction: all of it, or nothing.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Tokens.Where(t => t.ApplicationId == row.Id).ExecuteDeleteAsync(cancellationToken);
        db.Applications.Remove(row);
        audit.AddAdminChange(actor, "client.deleted", ClientRegistry.AuditTarget(clientId));
        await db.SaveChangesAsync(cancellationToken);
        // Its grants went with it (cascade): instances that cached one as valid learn that the client is gone.
        await notices.ClientChangedAsync(clientId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        store.Invalidate(clientId);
        return true;
    }

    /// <summary>
    /// Enables or disables a client. Disabled, it is refused by authorize, token (so refresh too) and introspection, and
    /// its access tokens introspect inactive: all of them read <see cref="ClientStore"/>, invalidated here.
    /// </summary>
    public async Task<AdminResult<ClientView>> SetEnabledAsync(string clientId, bool enabled, AdminActor actor, CancellationToken cancellationToken)
    {
        var row = await db.Applications.FirstOrDefaultAsync(a => a.ClientId == clientId, cancellationToken);
        if (row is null)
        {
            return AdminResult.NotFound<ClientView>();
        }

        if (row.Enabled != enabled)
        {
            row.Enabled = enabled;
            audit.AddAdminChange(actor, enabled ? "client.enabled" : "client.disabled", ClientRegistry.AuditTarget(clientId));
            if (await SaveAsync(row, cancellationToken) is { } conflict)
            {
                return AdminResult.Conflict<ClientView>(conflict);
            }
        }

        return AdminResult.Ok<ClientView>(ClientRegistry.View(row));
    }

    /// <summary>
    /// Issues a new secret (returned once). The old one keeps working for the grace period (default
    /// <see cref="AdminOptions.SecretRotationGracePeriod"/>), so the client can be redeployed without an outage.
    /// </summary>
    public async Task<AdminResult<SecretRotation>> RotateSecretAsync(string clientId, TimeSpan? gracePeriod, AdminActor actor, CancellationToken cancellationToken)
    {
        var grace = gracePeriod ?? options.SecretRotationGracePeriod;
        if (grace < TimeSpan.Zero || grace > MaxGracePeriod)
        {
            return AdminResult.Invalid<SecretRotation>(new ClientMetadataError(RegistrationErrors.InvalidRequest,
                $"The grace period must be between 0 and {MaxGracePeriod.TotalSeconds:0} seconds.", "grace_period_seconds"));
        }

        var row = await db.Applications.FirstOrDefaultAsync(a => a.ClientId == clientId, cancellationToken);
        if (row is null)
        {
            return AdminResult.NotFound<SecretRotation>();
        }

        if (row.ClientType != ClientTypes.Confidential)
        {
            return AdminResult.Invalid<SecretRotation>(new ClientMetadataError(RegistrationErrors.InvalidClientMetadata,
                "A public client has no secret to rotate.", "client_type"));
        }

        var secret = ClientSecrets.Generate();
        var keepOld = grace > TimeSpan.Zero && row.ClientSecretHash is not null;
        row.PreviousClientSecretHash = keepOld ? row.ClientSecretHash : null;
        row.PreviousSecretExpiresAt = keepOld ? time.GetUtcNow().UtcDateTime + grace : null;
        row.ClientSecretHash = ClientSecrets.Hash(secret);
        audit.AddAdminChange(actor, "client.secret_rotated", ClientRegistry.AuditTarget(clientId), new { GracePeriodSeconds = (long)grace.TotalSeconds, row.PreviousSecretExpiresAt });
        return await SaveAsync(row, cancellationToken) is { } conflict
            ? AdminResult.Conflict<SecretRotation>(conflict)
            : AdminResult.Ok<SecretRotation>(new SecretRotation(secret, row.PreviousSecretExpiresAt));
    }

    /// <summary>The client's grants that still stand, newest first.</summary>
    public async Task<IReadOnlyList<GrantView>?> ListGrantsAsync(string clientId, CancellationToken cancellationToken)
    {
        var applicationId = await ApplicationIdAsync(clientId, cancellationToken);
        if (applicationId is null)
        {
            return null;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var rows = await db.Authorizations.AsNoTracking()
            .Where(a => a.ApplicationId == applicationId && a.Status == Statuses.Valid && (a.ExpirationDate == null || a.ExpirationDate > now))
            .OrderByDescending(a => a.CreationDate)
            .Take(1000)
            .ToListAsync(cancellationToken);
        var subjects = rows.Select(a => a.Subject).Distinct().ToList();
        var names = await db.Users.AsNoTracking().Where(u => subjects.Contains(u.Id)).Select(u => new { u.Id, u.UserName })
            .ToDictionaryAsync(u => u.Id, u => u.UserName, cancellationToken);
        return rows.Select(a => new GrantView(a.Id, a.Subject, names.GetValueOrDefault(a.Subject), a.Type,
            a.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), Utc(a.CreationDate), a.ExpirationDate is { } e ? Utc(e) : null, a.SessionId)).ToList();
    }

    /// <summary>Revokes one grant of the client: its refresh tokens stop at once, its access tokens introspect inactive.</summary>
    public async Task<bool> RevokeGrantAsync(string clientId, string grantId, AdminActor actor, CancellationToken cancellationToken)
    {
        var applicationId = await ApplicationIdAsync(clientId, cancellationToken);
        var subject = applicationId is null ? null : await db.Authorizations.AsNoTracking()
            .Where(a => a.Id == grantId && a.ApplicationId == applicationId).Select(a => a.Subject).FirstOrDefaultAsync(cancellationToken);
        if (subject is null)
        {
            return false;
        }

        await grants.RevokeFamilyAsync(grantId, cancellationToken);
        // About the person whose grant it was, for this client: the audit's user and client filters both find it.
        await audit.RecordAdminChangeAsync(actor, "client.grant_revoked", UserAdminService.AuditTarget(subject), new { GrantId = grantId, Subject = subject },
            cancellationToken, clientId);
        return true;
    }

    /// <summary>Revokes all of the client's grants, or only one person's; null when there is no such client.</summary>
    public async Task<int?> RevokeGrantsAsync(string clientId, string? subject, AdminActor actor, CancellationToken cancellationToken)
    {
        var applicationId = await ApplicationIdAsync(clientId, cancellationToken);
        if (applicationId is null)
        {
            return null;
        }

        var revoked = await grants.RevokeClientAsync(applicationId, subject, cancellationToken);
        // One person's grants: an entry about that person, for this client (see RevokeGrantAsync); every grant: about the client.
        await audit.RecordAdminChangeAsync(actor, "client.grants_revoked",
            subject is null ? ClientRegistry.AuditTarget(clientId) : UserAdminService.AuditTarget(subject), new { Subject = subject, Revoked = revoked },
            cancellationToken, clientId);
        return revoked;
    }

    private async Task<ClientMetadataError?> SaveAsync(OAuthApplication row, CancellationToken cancellationToken)
    {
        // The concurrency token makes a lost update impossible: two admins editing at once, the second is told.
        row.ConcurrencyToken = Guid.NewGuid().ToString("N");
        // With the change, in its transaction, a notice to every instance to read the client again (disabled: refused).
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await notices.ClientChangedAsync(row.ClientId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return new ClientMetadataError(RegistrationErrors.InvalidRequest, "The client was changed or deleted at the same time; reload and try again.", "client_id");
        }

        store.Invalidate(row.ClientId);
        return null;
    }

    private Task<string?> ApplicationIdAsync(string clientId, CancellationToken cancellationToken) =>
        db.Applications.AsNoTracking().Where(a => a.ClientId == clientId).Select(a => a.Id).FirstOrDefaultAsync(cancellationToken);

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
