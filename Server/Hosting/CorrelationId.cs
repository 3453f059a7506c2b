using System.Diagnostics;

namespace IdentityServer.Hosting;

/// <summary>
/// Gives every request a correlation id: the caller's <c>X-Correlation-ID</c> when it is short and plain, otherwise the
/// W3C trace id. It is echoed in the response and carried by every log line of the request (a logging scope).
/// </summary>
public static class CorrelationId
{
    public const string HeaderName = "X-Correlation-ID";
    private const string ItemKey = "CorrelationId";

    public static string Get(HttpContext context) =>
        context.Items.TryGetValue(ItemKey, out var value) && value is string id ? id : context.TraceIdentifier;

    public static IApplicationBuilder UseCorrelationId(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("IdentityServer.Requests");
        return app.Use((context, next) => ScopeAsync(context, next, logger));
    }

    private static async Task ScopeAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        var id = context.Request.Headers[HeaderName].ToString();
        if (!IsAcceptable(id))
        {
            id = Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;
        }

        context.Items[ItemKey] = id;
        context.Response.Headers[HeaderName] = id;
        using (logger.BeginScope(new CorrelationScope(id)))
        {
            await next(context);
        }
    }

    private static bool IsAcceptable(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>
/// The logging scope of a request: one named value for the JSON console (<c>"CorrelationId": "..."</c>) and
/// <c>CorrelationId:...</c> in the single-line console (an array would print as its type name there).
/// </summary>
internal sealed class CorrelationScope(string id) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?> _value = new("CorrelationId", id);

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? _value : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return _value;
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "CorrelationId:" + _value.Value;
}
