using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Admin;

/// <summary>Creates, changes and deletes API scopes. The scope cache is invalidated at once, as for clients.</summary>
public sealed class ScopeAdminService(IdentityDbContext db, ScopeCatalog catalog, AuditLog audit)
{
    public async Task<IReadOnlyList<ScopeDefinition>> ListAsync(CancellationToken cancellationToken)
    {
        var rows = await db.Scopes.AsNoTracking().OrderBy(s => s.Name).ToListAsync(cancellationToken);
        return rows.Select(ScopeDefinition.From).ToList();
    }

    public async Task<ScopeDefinition?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var row = await db.Scopes.AsNoTracking().FirstOrDefaultAsync(s => s.Name == name, cancellationToken);
        return row is null ? null : ScopeDefinition.From(row);
    }

    public async Task<AdminResult<ScopeDefinition>> CreateAsync(ScopeDefinition definition, AdminActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Validate() is { } error)
        {
            return AdminResult.Invalid<ScopeDefinition>(error);
        }

        var name = definition.Name!;
        if (await db.Scopes.AnyAsync(s => s.Name == name, cancellationToken))
        {
            return AdminResult.Conflict<ScopeDefinition>(Taken(name));
        }

        var row = new OAuthScope { Name = name };
        definition.ApplyTo(row);
        db.Scopes.Add(row);
        audit.AddAdminChange(actor, "scope.created", ScopeDefinition.AuditTarget(name), definition);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return AdminResult.Conflict<ScopeDefinition>(Taken(name));
        }

        catalog.Invalidate();
        return AdminResult.Ok<ScopeDefinition>(ScopeDefinition.From(row));
    }

    public async Task<AdminResult<ScopeDefinition>> UpdateAsync(string name, ScopeDefinition definition, AdminActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Name is not null && definition.Name != name)
        {
            return AdminResult.Invalid<ScopeDefinition>(new ClientMetadataError(RegistrationErrors.InvalidRequest, "A scope cannot be renamed; create a new one.", "name"));
        }

        definition.Name = name;
        if (definition.Validate() is { } error)
        {
            return AdminResult.Invalid<ScopeDefinition>(error);
        }

        var row = await db.Scopes.FirstOrDefaultAsync(s => s.Name == name, cancellationToken);
        if (row is null)
        {
            return AdminResult.NotFound<ScopeDefinition>();
        }

        definition.ApplyTo(row);
        row.ConcurrencyToken = Guid.NewGuid().ToString("N");
        audit.AddAdminChange(actor, "scope.updated", ScopeDefinition.AuditTarget(name), definition);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return AdminResult.Conflict<ScopeDefinition>(new ClientMetadataError(RegistrationErrors.InvalidRequest, "The scope was changed at the same time; reload and try again.", "name"));
        }

        catalog.Invalidate();
        return AdminResult.Ok<ScopeDefinition>(ScopeDefinition.From(row));
    }

    /// <summary>Deletes a scope no client is allowed any more; one still in use is refused (Conflict), naming the clients.</summary>
    public async Task<AdminResult<bool>> DeleteAsync(string name, AdminActor actor, CancellationToken cancellationToken)
    {
        var row = await db.Scopes.FirstOrDefaultAsync(s => s.Name == name, cancellationToken);
        if (row is null)
        {
            return AdminResult.NotFound<bool>();
        }

        // The permission as it appears inside the stored JSON array (same encoder), to narrow the rows read.
        var permission = ClientDefinition.Json([ClientDescriptor.ScopePrefix + name])[1..^1];
        var candidates = await db.Applications.AsNoTracking().Where(a => a.Permissions.Contains(permission))
            .Select(a => new { a.ClientId, a.Permissions }).ToListAsync(cancellationToken);
        var users = candidates.Where(a => ClientDefinition.ReadArray(a.Permissions).Contains(ClientDescriptor.ScopePrefix + name)).Select(a => a.ClientId).ToList();
        if (users.Count > 0)
        {
            return AdminResult.Conflict<bool>(new ClientMetadataError(RegistrationErrors.InvalidRequest,
                $"The scope '{name}' is still allowed to: {string.Join(", ", users.Take(10))}{(users.Count > 10 ? ", ..." : "")}. Remove it from them first.", "name"));
        }

        db.Scopes.Remove(row);
        audit.AddAdminChange(actor, "scope.deleted", ScopeDefinition.AuditTarget(name));
        await db.SaveChangesAsync(cancellationToken);
        catalog.Invalidate();
        return AdminResult.Ok<bool>(true);
    }

    private static ClientMetadataError Taken(string name) => new(RegistrationErrors.InvalidRequest, $"The scope '{name}' already exists.", "name");
}
