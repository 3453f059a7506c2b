using System.Buffers;
using System.Globalization;
using System.Text;

namespace IdentityServer.Hosting;

/// <summary>
/// Client-supplied values (client_id, user names, redirect URIs, paths) reach log messages as structured values. Before
/// any logging provider sees them, every string value is cut to <see cref="MaxValueLength"/> characters and its control
/// characters (line breaks included, and the Unicode line separators and bidirectional overrides that reorder what a
/// reader sees) are written as visible escapes, so that a value can neither forge a log line nor flood the log
/// (OWASP ASVS 7.3.1, log injection). Done once for every provider (console text, JSON, OpenTelemetry), not per call site.
/// </summary>
public static class LogSanitizing
{
    public const int MaxValueLength = 200;

    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F"
        + "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F"
        + "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F"
        + "\u2028\u2029\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    /// <summary>Wraps every logging provider registered so far; call it after the last provider is added.</summary>
    public static ILoggingBuilder SanitizeLoggedValues(this ILoggingBuilder logging)
    {
        var services = logging.Services;
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(ILoggerProvider) && !descriptor.IsKeyedService)
            {
                services[i] = ServiceDescriptor.Describe(typeof(ILoggerProvider),
                    provider => new SanitizingLoggerProvider(Create(provider, descriptor)), descriptor.Lifetime);
            }
        }

        return logging;
    }

    private static ILoggerProvider Create(IServiceProvider services, ServiceDescriptor descriptor) =>
        (ILoggerProvider)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));

    /// <summary>The value as it may appear in a log: at most <see cref="MaxValueLength"/> characters, control characters escaped.</summary>
    public static string Clean(string value)
    {
        if (!NeedsCleaning(value))
        {
            return value;
        }

        var text = value.AsSpan(0, Math.Min(value.Length, MaxValueLength));
        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (Unsafe.Contains(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        if (value.Length > MaxValueLength)
        {
            builder.Append(CultureInfo.InvariantCulture, $"...(+{value.Length - MaxValueLength} chars)");
        }

        return builder.ToString();
    }

    private static bool NeedsCleaning(string value) => value.Length > MaxValueLength || value.AsSpan().ContainsAny(Unsafe);

    internal static bool NeedsCleaning(IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            var (key, value) = values[i];
            if (value is string text && key != OriginalFormat && NeedsCleaning(text))
            {
                return true;
            }
        }

        return false;
    }

    internal const string OriginalFormat = "{OriginalFormat}";
}

internal sealed class SanitizingLoggerProvider(ILoggerProvider inner) : ILoggerProvider, ISupportExternalScope
{
    public ILogger CreateLogger(string categoryName)
    {
        var logger = new SanitizingLogger(inner.CreateLogger(categoryName));
        return categoryName == WithoutHostStartFailure.Category ? new WithoutHostStartFailure(logger) : logger;
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (inner is ISupportExternalScope scoped)
        {
            scoped.SetScopeProvider(scopeProvider);
        }
    }

    public void Dispose() => inner.Dispose();
}

internal sealed class SanitizingLogger(ILogger inner) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        // Message templates hand their values over as a list; the common case (nothing to clean) passes through untouched.
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values && LogSanitizing.NeedsCleaning(values))
        {
            var cleaned = new CleanedState(values, formatter(state, exception));
            inner.Log(logLevel, eventId, cleaned, exception, static (s, _) => s.Message);
            return;
        }

        inner.Log(logLevel, eventId, state, exception, formatter);
    }

    /// <summary>The values with their strings cleaned, and the message rendered with the cleaned values in place of the raw ones.</summary>
    private sealed class CleanedState : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] _values;

        public CleanedState(IReadOnlyList<KeyValuePair<string, object?>> values, string message)
        {
            _values = new KeyValuePair<string, object?>[values.Count];
            for (var i = 0; i < values.Count; i++)
            {
                var (key, value) = values[i];
                if (value is string text && key != LogSanitizing.OriginalFormat)
                {
                    var clean = LogSanitizing.Clean(text);
                    if (!ReferenceEquals(clean, text) && text.Length > 0)
                    {
                        message = message.Replace(text, clean, StringComparison.Ordinal);
                    }

                    value = clean;
                }

                _values[i] = new(key, value);
            }

            Message = message;
        }

        public string Message { get; }

        public int Count => _values.Length;

        public KeyValuePair<string, object?> this[int index] => _values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;
    }
}

/// <summary>
/// Leaves out the host's "Hosting failed to start" entry (with the exception's stack trace): the failure reaches
/// Program, which says why in one line on stderr (<see cref="StartupFailure"/>: a busy port, a configuration error, a
/// database that does not answer) and exits with 1. Every other entry of the host passes.
/// </summary>
internal sealed class WithoutHostStartFailure(ILogger inner) : ILogger
{
    public const string Category = "Microsoft.Extensions.Hosting.Internal.Host";
    private const int HostingStartFailed = 11;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id != HostingStartFailed)
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
