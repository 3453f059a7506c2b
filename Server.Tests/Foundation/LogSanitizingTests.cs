using IdentityServer.Hosting;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// Log hygiene: a client-supplied value (a client_id, a user name) can neither start a forged log line nor flood the log,
/// whatever provider writes it; values that need nothing pass through unchanged.
/// </summary>
public sealed class LogSanitizingTests
{
    [Fact]
    public void Control_characters_are_escaped_and_long_values_capped_in_the_message_and_the_structured_values()
    {
        var (logger, captured) = CapturingLogger();
        var forged = "web\r\n2026-12-03 info: Admin alice signed in\u2028\u202Eevil";
        var flood = new string('x', 5000);

        logger.LogWarning("Client authentication failed for {ClientId} with {Note}", forged, flood);

        var entry = Assert.Single(captured);
        Assert.DoesNotContain('\n', entry.Message);
        Assert.DoesNotContain('\r', entry.Message);
        Assert.DoesNotContain('\u2028', entry.Message);
        Assert.DoesNotContain('\u202E', entry.Message);
        Assert.Contains("web\\u000D\\u000A2026-12-03 info", entry.Message, StringComparison.Ordinal);
        Assert.True(entry.Message.Length < 600, $"{entry.Message.Length} characters");
        Assert.Contains("(+4800 chars)", entry.Message, StringComparison.Ordinal);
        var clientId = Assert.IsType<string>(entry.Values.Single(v => v.Key == "ClientId").Value);
        Assert.DoesNotContain('\n', clientId);
        Assert.Equal("Client authentication failed for {ClientId} with {Note}", entry.Values.Single(v => v.Key == "{OriginalFormat}").Value);
    }

    [Fact]
    public void Ordinary_values_pass_through_untouched()
    {
        var (logger, captured) = CapturingLogger();

        logger.LogInformation("Refresh refused: {Reason} (client {ClientId})", "token expired", "web-app_1");

        Assert.Equal("Refresh refused: token expired (client web-app_1)", Assert.Single(captured).Message);
    }

    [Fact]
    public void The_server_cleans_values_for_every_provider_it_logs_to()
    {
        using var server = new SqliteServer();
        var providers = server.Services.GetServices<ILoggerProvider>().ToList();

        Assert.NotEmpty(providers);
        Assert.All(providers, p => Assert.Equal("SanitizingLoggerProvider", p.GetType().Name));
    }

    private static (ILogger Logger, List<CapturedEntry> Captured) CapturingLogger()
    {
        var captured = new List<CapturedEntry>();
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.Services.AddSingleton<ILoggerProvider>(new CapturingProvider(captured));
            logging.SanitizeLoggedValues();
        });
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<ILoggerFactory>().CreateLogger("test"), captured);
    }

    private sealed record CapturedEntry(string Message, IReadOnlyList<KeyValuePair<string, object?>> Values);

    private sealed class CapturingProvider(List<CapturedEntry> captured) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            captured.Add(new(formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));

        public void Dispose()
        {
        }
    }
}
