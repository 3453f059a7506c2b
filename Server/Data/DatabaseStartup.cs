using IdentityServer.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IdentityServer.Data;

/// <summary>
/// Data a capability puts in the database at every start, once it is migrated (the clients and scopes declared in
/// configuration). Run by <see cref="DatabaseStartup"/> in the order registered, before the server is ready; a failure
/// stops the server like a failed migration. Register one with <see cref="DatabaseStartupSetup.AddDatabaseSeed{TSeed}"/>.
/// A seed that writes takes the <see cref="StartupLock"/> itself, so replicas starting together do not insert twice.
/// </summary>
public interface IDatabaseSeed
{
    Task SeedAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The database work of a start: migrations, then the seeds (<see cref="IDatabaseSeed"/>: the clients and scopes declared
/// in configuration). By default
/// (Database:StartInBackground) the server listens while it runs: discovery, JWKS and health need no database and answer
/// at once, every other request waits for it (<see cref="DatabaseStartupSetup.UseDatabaseStartupGate"/>), and
/// /health/ready says not ready until it is done. A failure stops the server with exit code 1, as it would have before
/// listening. With StartInBackground=false the server listens only once the database is ready.
/// </summary>
public sealed class DatabaseStartup
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the database is migrated and seeded; faults with the reason when that failed.</summary>
    public Task Ready => _done.Task;

    public bool IsReady => _done.Task.IsCompletedSuccessfully;

    public bool Failed => _done.Task.IsFaulted;

    internal async Task RunAsync(Func<Task> work)
    {
        try
        {
            await work();
            _done.TrySetResult();
        }
        catch (Exception e)
        {
            _done.TrySetException(e);
            throw;
        }
    }
}

/// <summary>Runs <see cref="DatabaseStartup"/> first thing at start: before listening, or beside it.</summary>
internal sealed class DatabaseStartupService(
    DatabaseStartup startup,
    DatabaseMigrationService migrations,
    IEnumerable<IDatabaseSeed> seeds,
    DatabaseOptions options,
    IHostApplicationLifetime lifetime,
    ILogger<DatabaseStartupService> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!options.StartInBackground)
        {
            return startup.RunAsync(() => MigrateAndSeedAsync(cancellationToken));
        }

        logger.LogInformation("Preparing the database beside the server: /health/ready answers 503 until it is done");

        // Once the server listens, and on a thread of its own: on a small machine the database work and the server's
        // start share the cores, and SQLite's calls block the thread they run on; a pool thread would keep the first
        // requests (metadata, probes) queued behind it.
        var stopping = lifetime.ApplicationStopping;
        lifetime.ApplicationStarted.Register(() => _ = Task.Factory.StartNew(async () =>
        {
            try
            {
                await startup.RunAsync(() => MigrateAndSeedAsync(stopping));
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // The same outcome as a failure before listening: one clear line, then exit code 1 (see Program). The log
                // gets the same line, without a stack trace (a refused connection needs none); Debug has the exception.
                logger.LogError("The database could not be prepared; stopping: {Error}", StartupFailure.Summary(e));
                logger.LogDebug(e, "The database could not be prepared");
                await Console.Error.WriteLineAsync(StartupFailure.Database(e));

                lifetime.StopApplication();
            }
            catch (Exception)
            {
                // Stopped while preparing: nothing to report.
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        return Task.CompletedTask;
    }

    private async Task MigrateAndSeedAsync(CancellationToken cancellationToken)
    {
        await migrations.MigrateAsync(cancellationToken);
        foreach (var seed in seeds)
        {
            await seed.SeedAsync(cancellationToken);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Ready only once the database is migrated and seeded. While that runs the check is Degraded, which /health/ready
/// answers with 503 like Unhealthy (see MapHealth) but which is not logged at every poll (see
/// <see cref="DatabaseStartupSetup.QuietStartingProbes"/>): a starting server is not failing, and the start said once
/// that it prepares the database.
/// </summary>
internal sealed class DatabaseStartupHealthCheck(DatabaseStartup startup) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(startup.IsReady ? HealthCheckResult.Healthy()
            : startup.Failed ? HealthCheckResult.Unhealthy("The database could not be prepared.")
            : HealthCheckResult.Degraded("The database is being prepared."));
}

/// <summary>
/// Readiness: can the database be reached? Not asked while the start's database work runs (the database may not exist
/// yet), so a starting server logs no failed query: it answers Healthy then, as <see cref="DatabaseStartupHealthCheck"/>
/// alone says the server is not ready yet.
/// </summary>
internal sealed class DatabaseConnectionHealthCheck(DatabaseStartup startup, IdentityDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!startup.IsReady)
        {
            return HealthCheckResult.Healthy("Not checked while the database is prepared.");
        }

        return await db.Database.CanConnectAsync(cancellationToken)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The database cannot be reached.");
    }
}

public static class DatabaseStartupSetup
{
    /// <summary>
    /// The framework's health check service logs every check that is not Healthy, a Degraded one as a warning: a probe
    /// polling a starting server would write a warning per poll. Only Unhealthy (an error: the database cannot be reached
    /// or could not be prepared) is logged now; Degraded means starting, which the start logs once.
    /// </summary>
    public static ILoggingBuilder QuietStartingProbes(this ILoggingBuilder logging) =>
        logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.Error);

    /// <summary>Adds data to put in the database at every start, after the migrations (<see cref="IDatabaseSeed"/>).</summary>
    public static IServiceCollection AddDatabaseSeed<TSeed>(this IServiceCollection services) where TSeed : class, IDatabaseSeed =>
        services.AddSingleton<IDatabaseSeed>(provider => provider.GetRequiredService<TSeed>());

    /// <summary>
    /// Holds a request that needs the database until the start's database work is done. Discovery, JWKS and health are
    /// let through: they are served from memory, and a probe must see "not ready" rather than wait.
    /// </summary>
    public static IApplicationBuilder UseDatabaseStartupGate(this IApplicationBuilder app)
    {
        var startup = app.ApplicationServices.GetRequiredService<DatabaseStartup>();
        return app.Use(async (context, next) =>
        {
            if (!startup.IsReady && !NeedsNoDatabase(context.Request.Path))
            {
                // A failure surfaces as the exception itself: the exception handler answers it (503 for a database fault).
                await startup.Ready.WaitAsync(context.RequestAborted);
            }

            await next(context);
        });
    }

    private static bool NeedsNoDatabase(PathString path) =>
        path.StartsWithSegments("/.well-known") || path.StartsWithSegments("/health") || path.StartsWithSegments(TelemetrySetup.MetricsPath);
}
