using System.Text.Encodings.Web;

namespace IdentityServer.Hosting;

/// <summary>
/// A page for people where the framework answers a browser with an empty error: a form refused by antiforgery (an
/// expired or forged token), a form that cannot be read, an unknown page, a wrong method. Machine endpoints (the protocol
/// under /connect, the admin API, discovery, health) keep their bare status or their own JSON; an answer that already has
/// a body is never touched.
/// </summary>
public static class StatusPages
{
    public static IApplicationBuilder UseStatusPages(this IApplicationBuilder app) => app.UseStatusCodePages(async context =>
    {
        var http = context.HttpContext;
        var path = http.Request.Path;
        if (path.StartsWithSegments("/connect") || path.StartsWithSegments("/admin/api") || path.StartsWithSegments("/.well-known")
            || path.StartsWithSegments("/health") || path.StartsWithSegments("/openapi"))
        {
            return;
        }

        var response = http.Response;
        var (title, message) = response.StatusCode switch
        {
            StatusCodes.Status400BadRequest => ("This form could not be accepted",
                "It may have been open for too long, or sent from somewhere else. Go back, reload the page and try again."),
            StatusCodes.Status404NotFound => ("Page not found", "There is nothing at this address."),
            StatusCodes.Status405MethodNotAllowed or StatusCodes.Status415UnsupportedMediaType => ("This request cannot be handled", "Go back and try again."),
            _ => ("Something went wrong", "Go back and try again."),
        };
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        var html = HtmlEncoder.Default;
        await response.WriteAsync("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html.Encode(title) + "</title>"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/site.css\"></head>"
            + $"<body><main class=\"card\"><h1>{html.Encode(title)}</h1><p>{html.Encode(message)}</p>"
            + $"<p class=\"muted\">Reference: <code>{html.Encode(CorrelationId.Get(http))}</code></p><p><a href=\"/\">Back to the start</a></p></main></body></html>",
            http.RequestAborted);
    });
}
