using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Clients;

/// <summary>
/// Applies <see cref="ClientSeedOptions"/> at start, after migrations (both run by <see cref="DatabaseStartup"/>: the
/// seeder is an <see cref="IDatabaseSeed"/>).
/// Declared fields are the truth and are written on every start; a row is only touched (and audited, as the
/// <c>configuration</c> actor) when something differs, so a second start with the same configuration changes nothing.
/// What configuration does not declare is left alone: a client an admin disabled stays disabled. When a declared secret
/// changes, the old one keeps working for Admin:SecretRotationGracePeriod (<see cref="ClientSeedOptions.SecretRotationGracePeriod"/>),
/// as with a rotation through the API.
/// </summary>
internal sealed class ClientSeeder(
    IServiceProvider services,
    ClientSeedOptions options,
    ClientStore clientStore,
    ScopeCatalog scopeCatalog,
    IGrantTypeCatalog grantTypes,
    TimeProvider time,
    ILogger<ClientSeeder> logger) : IDatabaseSeed
{
    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        if (options.Clients.Count == 0 && options.Scopes.Count == 0)
        {
            return;
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        // Replicas starting together would insert the same client twice (a unique key violation ends one of them).
        await using var startupLock = await StartupLock.AcquireAsync(db, cancellationToken);
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        var changed = 0;
        foreach (var seed in options.Scopes)
        {
            var row = await db.Scopes.FirstOrDefaultAsync(s => s.Name == seed.Name, cancellationToken);
            if (row is null)
            {
                row = new OAuthScope { Name = seed.Name };
                db.Scopes.Add(row);
            }

            var definition = seed.ToDefinition();
            definition.ApplyTo(row);
            if (db.Entry(row).State is EntityState.Added or EntityState.Modified)
            {
                row.ConcurrencyToken = Guid.NewGuid().ToString("N");
                audit.AddAdminChange(AdminActor.Configuration, db.Entry(row).State == EntityState.Added ? "scope.created" : "scope.updated",
                    ScopeDefinition.AuditTarget(seed.Name), definition);
                changed++;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        var known = ScopeCatalog.BuiltInScopes.Keys.Concat(await db.Scopes.Select(s => s.Name).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        foreach (var seed in options.Clients)
        {
            if (seed.Validate(grantTypes, known) is { } error)
            {
                throw new StartupConfigurationException(seed.SettingOf(error), error.Description);
            }

            if (await ApplyAsync(db, audit, seed, cancellationToken))
            {
                changed++;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        scopeCatalog.Invalidate();
        foreach (var seed in options.Clients)
        {
            clientStore.Invalidate(seed.ClientId);
        }

        logger.LogInformation("Declared in configuration: {Clients} client(s) and {Scopes} scope(s); {Changed} created or updated",
            options.Clients.Count, options.Scopes.Count, changed);
    }

    /// <summary>Creates or updates one client; true when the row changed.</summary>
    private async Task<bool> ApplyAsync(IdentityDbContext db, AuditLog audit, SeedClient seed, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var row = await db.Applications.FirstOrDefaultAsync(a => a.ClientId == seed.ClientId, cancellationToken);
        if (row is null)
        {
            row = new OAuthApplication
            {
                ClientId = seed.ClientId,
                ClientType = seed.Type,
                ConsentType = seed.ConsentType,
                DisplayName = seed.ClientId,
                CreationDate = now,
            };
            db.Applications.Add(row);
        }

        var definition = seed.ToDefinition();
        definition.ApplyTo(row);
        var secretHash = definition.IsConfidential ? ClientSecrets.Hash(seed.ClientSecret!) : null;
        if (row.ClientSecretHash != secretHash)
        {
            var keepOld = row.ClientSecretHash is not null && secretHash is not null && options.SecretRotationGracePeriod > TimeSpan.Zero;
            row.PreviousClientSecretHash = keepOld ? row.ClientSecretHash : null;
            row.PreviousSecretExpiresAt = keepOld ? now + options.SecretRotationGracePeriod : null;
            row.ClientSecretHash = secretHash;
        }

        var state = db.Entry(row).State;
        if (state is not (EntityState.Added or EntityState.Modified))
        {
            return false;
        }

        row.ConcurrencyToken = Guid.NewGuid().ToString("N");
        audit.AddAdminChange(AdminActor.Configuration, state == EntityState.Added ? "client.created" : "client.updated", ClientRegistry.AuditTarget(seed.ClientId), definition);
        return true;
    }
}
