using IdentityServer.Hosting.Cli;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Data;

/// <summary>
/// Prepares the database at start (run by <see cref="DatabaseStartup"/>, before the declared clients are seeded):
/// SQLite goes to WAL so readers never wait for the writer, and pending migrations are applied when enabled. The command
/// line runs it too, before any command (<see cref="ICommandPreparation"/>), so the first command on a fresh install works.
/// </summary>
internal sealed class DatabaseMigrationService(IServiceProvider services, DatabaseOptions options, ILogger<DatabaseMigrationService> logger)
    : ICommandPreparation
{
    Task ICommandPreparation.PrepareAsync(CancellationToken cancellationToken) => MigrateAsync(cancellationToken);

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        if (options.MigrateOnStart)
        {
            // Replicas starting together on an empty database: one migrates, the others then find nothing pending.
            await using var startupLock = await StartupLock.AcquireAsync(db, cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                // Only then: Migrate also checks the model against the migrations, a few hundred ms of a restart.
                await db.Database.MigrateAsync(cancellationToken);
                logger.LogInformation("Applied {Count} database migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
            }
        }
    }
}
