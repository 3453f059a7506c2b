using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IdentityServer.Hosting;

public static class ObservabilitySetup
{
    /// <summary>JSON console logs outside Development (one object per line, with scopes: the correlation id).</summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        CheckLogLevels(builder.Configuration.GetSection("Logging"));
        builder.Logging.ClearProviders();
        if (builder.Environment.IsDevelopment())
        {
            builder.Logging.AddSimpleConsole(o => { o.IncludeScopes = true; o.SingleLine = true; });
        }
        else
        {
            builder.Logging.AddJsonConsole(o => { o.IncludeScopes = true; o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; });
        }

        // Last, over every provider added above: no client-supplied value reaches a log unescaped or uncapped.
        builder.Logging.SanitizeLoggedValues();

        // The checks tagged "ready" are added by the capabilities they concern (the database: AddIdentityDatabase).
        builder.Services.AddHealthChecks();
        return builder;
    }

    /// <summary>
    /// A log level that is not one (<c>Logging:LogLevel:Default=Loud</c>) fails where the logging filters are first read,
    /// saying only "Configuration value 'Loud' is not supported": said here with the key, at any depth
    /// (<c>Logging:Console:LogLevel:...</c> too).
    /// </summary>
    private static void CheckLogLevels(IConfigurationSection logging)
    {
        foreach (var level in logging.GetChildren().SelectMany(LevelSections))
        {
            foreach (var entry in level.GetChildren())
            {
                if (entry.Value is { } value && !Enum.TryParse<LogLevel>(value, ignoreCase: true, out _))
                {
                    throw new StartupConfigurationException(entry.Path,
                        $"'{value}' is not a log level; use Trace, Debug, Information, Warning, Error, Critical or None.");
                }
            }
        }

        static IEnumerable<IConfigurationSection> LevelSections(IConfigurationSection section) =>
            section.Key.Equals("LogLevel", StringComparison.OrdinalIgnoreCase)
                ? [section]
                : section.GetChildren().SelectMany(LevelSections);
    }

    /// <summary>Liveness answers while the process runs; readiness also needs the database.</summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            // Degraded means starting (DatabaseStartupHealthCheck): not ready either.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        return app;
    }
}
