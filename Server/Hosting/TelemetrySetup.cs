using System.Security.Cryptography;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace IdentityServer.Hosting;

/// <summary>Section <c>Telemetry</c>: where metrics and traces go. Nothing is collected unless an exporter is on.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    public PrometheusOptions Prometheus { get; set; } = new();

    public OtlpOptions Otlp { get; set; } = new();

    /// <summary>The <c>service.name</c> resource attribute of every metric and span.</summary>
    public string ServiceName { get; set; } = "identity-server";
}

public sealed class PrometheusOptions
{
    /// <summary>Serves the scrape endpoint at <see cref="TelemetrySetup.MetricsPath"/>. Off by default: it tells who uses which client.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// When set, a scrape must send <c>Authorization: Bearer</c> with this value (Prometheus' <c>authorization</c>
    /// setting). Without it, keep <c>/metrics</c> off the public network (a proxy rule or network policy).
    /// </summary>
    public string? ScrapeToken { get; set; }
}

public sealed class OtlpOptions
{
    /// <summary>
    /// The collector's address (for example http://otel-collector:4317). Metrics and traces are pushed there. The
    /// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable works too.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary><c>Grpc</c> (port 4317) or <c>HttpProtobuf</c> (port 4318).</summary>
    public OtlpExportProtocol Protocol { get; set; } = OtlpExportProtocol.Grpc;
}

/// <summary>
/// OpenTelemetry metrics (HTTP server and client, runtime, EF Core, and <see cref="ServerMetrics"/>) and traces (HTTP
/// server and client, EF Core commands), exported by Prometheus scraping and/or OTLP push as configured.
/// </summary>
public static class TelemetrySetup
{
    public const string MetricsPath = "/metrics";

    /// <summary>EF Core's own meter (connections, queries, SaveChanges).</summary>
    private const string EntityFrameworkMeter = "Microsoft.EntityFrameworkCore";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.BindSetting<TelemetryOptions>(TelemetryOptions.Section);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ServerMetrics>();

        var standardEndpoint = builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        CheckEndpoint("Telemetry:Otlp:Endpoint", options.Otlp.Endpoint?.OriginalString);
        CheckEndpoint("OTEL_EXPORTER_OTLP_ENDPOINT", standardEndpoint);
        var otlp = options.Otlp.Endpoint is not null || !string.IsNullOrWhiteSpace(standardEndpoint);
        if (!options.Prometheus.Enabled && !otlp)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(EntityFrameworkMeter, ServerMetrics.MeterName);
                if (options.Prometheus.Enabled)
                {
                    // Every scrape reads the counters afresh (the exporter otherwise serves a cached answer for a while).
                    metrics.AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0);
                }
            });

        if (otlp)
        {
            // Traces only go somewhere with a collector: a span kept for no reader is pure cost.
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => !IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddEntityFrameworkCoreInstrumentation());
            telemetry.UseOtlpExporter(options.Otlp.Protocol, options.Otlp.Endpoint ?? new Uri(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]!));
        }

        return builder;
    }

    /// <summary>Serves <c>/metrics</c> when Prometheus scraping is on, behind the scrape token when one is set.</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<TelemetryOptions>().Prometheus;
        if (!options.Enabled)
        {
            return app;
        }

        var endpoint = app.MapPrometheusScrapingEndpoint(MetricsPath).DisableRateLimiting();
        if (!string.IsNullOrEmpty(options.ScrapeToken))
        {
            var expected = Encoding.UTF8.GetBytes("Bearer " + options.ScrapeToken);
            // The exporter's endpoint is a plain request delegate (endpoint filters do not run on it): wrapped here.
            endpoint.Add(builder =>
            {
                var scrape = builder.RequestDelegate!;
                builder.RequestDelegate = context =>
                {
                    var presented = Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString());
                    // Compared in constant time: the token is a secret.
                    if (CryptographicOperations.FixedTimeEquals(presented, expected))
                    {
                        return scrape(context);
                    }

                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    return Task.CompletedTask;
                };
            });
        }

        return app;
    }

    /// <summary>The collector's address must be an absolute http(s) URL; the exporter would only say "relative URI".</summary>
    private static void CheckEndpoint(string setting, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value)
            && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            throw new StartupConfigurationException(setting, $"'{value}' is not an absolute http(s) URL (for example http://otel-collector:4317).");
        }
    }

    private static bool IsProbe(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments(MetricsPath);
}
