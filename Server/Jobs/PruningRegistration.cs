using IdentityServer.Data;
using IdentityServer.Hosting.Cli;
using Quartz;

namespace IdentityServer.Jobs;

public static class PruningRegistration
{
    public static readonly JobKey JobKey = new("prune-tokens-and-grants");

    /// <summary>The pruning service, its steps, the <c>prune</c> command, and (when enabled) the Quartz schedule.</summary>
    public static WebApplicationBuilder AddPruning(this WebApplicationBuilder builder)
    {
        var options = PruningOptions.Read(builder.Configuration);
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton<PruneService>();
        services.AddCommand<PruneCommand>();

        // The extension point: one IPruneStep per table, run in this order (tokens before the grants they hang off).
        services.AddSingleton<IPruneStep, TokenPruneStep>();
        services.AddSingleton<IPruneStep, AuthorizationPruneStep>();
        services.AddSingleton<IPruneStep>(new ExpiredRowsPruneStep<RevokedAccessToken>("revoked access tokens", r => r.ExpirationDate));
        services.AddSingleton<IPruneStep>(new ExpiredRowsPruneStep<UserSession>("sign-in sessions", s => s.ExpirationDate));
        services.AddSingleton<IPruneStep>(new ExpiredRowsPruneStep<InitialAccessToken>("initial access tokens", t => t.ExpirationDate));
        services.AddSingleton<IPruneStep>(new ExpiredRowsPruneStep<PushedAuthorizationRequest>("pushed authorization requests", r => r.ExpirationDate));
        services.AddSingleton<IPruneStep>(new ExpiredRowsPruneStep<UsedClientAssertion>("used client assertions", a => a.ExpirationDate));
        services.AddSingleton<IPruneStep>(new ExpiredRowsPruneStep<DPoPProofJti>("DPoP proof jtis", p => p.ExpirationDate));
        services.AddSingleton<IPruneStep>(new ExpiredRowsPruneStep<DeviceCode>("device codes", d => d.ExpirationDate));
        services.AddSingleton<IPruneStep, AuditPruneStep>();

        if (!options.Enabled)
        {
            return builder;
        }

        services.AddQuartz(quartz =>
        {
            // Quartz would otherwise follow the container's TimeProvider, which tests replace with a fake clock they move
            // by days: the schedule is wall-clock cadence. The job itself reads the injected clock for its retention window.
            quartz.UseTimeProvider(TimeProvider.System);
            // Shutdown cancels a running prune between statements (each batch is its own transaction) and waits for it.
            quartz.ConfigureScheduler(scheduler => scheduler.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs);
            quartz.ScheduleJob<PruneJob>(
                trigger => trigger
                    .WithIdentity(JobKey.Name)
                    // A random first run, so instances started together do not prune together.
                    .StartAt(TimeProvider.System.GetUtcNow() + FirstRunDelay())
                    .WithSimpleSchedule(schedule => schedule.WithInterval(options.Interval).RepeatForever()),
                job => job.WithIdentity(JobKey));
        });
        // The scheduler starts once the server answers (its first run is minutes away anyway), not before it listens.
        services.AddQuartzHostedService(hosted =>
        {
            hosted.WaitForJobsToComplete = true;
            hosted.AwaitApplicationStarted = true;
        });
        return builder;
    }

    /// <summary>1 to 10 minutes.</summary>
    internal static TimeSpan FirstRunDelay() => TimeSpan.FromSeconds(Random.Shared.Next(60, 601));
}
