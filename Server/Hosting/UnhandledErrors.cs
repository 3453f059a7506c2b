using System.Data.Common;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Diagnostics;

namespace IdentityServer.Hosting;

/// <summary>
/// The last line of defence: an exception nobody handled becomes a clean, spec-shaped answer, never a stack trace.
/// A database that is down or overloaded is a 503 with Retry-After (<c>temporarily_unavailable</c> for protocol
/// endpoints, RFC 6749 §4.1.2.1 / §5.2 usage); anything else is a 500 (<c>server_error</c>). People get an error page.
/// </summary>
public sealed class UnhandledErrors(ILogger<UnhandledErrors> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var unavailable = IsDatabaseUnavailable(exception);
        var correlationId = CorrelationId.Get(httpContext);
        if (unavailable)
        {
            logger.LogError("Database unavailable while serving {Path}: {Reason}", httpContext.Request.Path, exception.GetBaseException().Message);
        }
        else
        {
            logger.LogError(exception, "Unhandled error while serving {Path}", httpContext.Request.Path);
        }

        var response = httpContext.Response;
        response.Clear();
        response.StatusCode = unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError;
        response.Headers.CacheControl = "no-store";
        if (unavailable)
        {
            response.Headers.RetryAfter = "5";
        }

        var path = httpContext.Request.Path;
        // The authorization and end-session endpoints are where apps send a person's browser: they get the page.
        var browserEndpoint = path.StartsWithSegments("/connect/authorize") || path.StartsWithSegments("/connect/endsession");
        if (!browserEndpoint && (path.StartsWithSegments("/connect") || path.StartsWithSegments("/admin/api") || path.StartsWithSegments("/.well-known")))
        {
            await response.WriteAsJsonAsync(new Dictionary<string, string>
            {
                ["error"] = unavailable ? "temporarily_unavailable" : "server_error",
                ["error_description"] = unavailable ? "The service is temporarily unavailable; try again shortly." : "An unexpected error occurred.",
            }, cancellationToken);
            return true;
        }

        response.ContentType = "text/html; charset=utf-8";
        var message = unavailable ? "The service is temporarily unavailable. Please try again in a moment." : "Something went wrong on our side.";
        await response.WriteAsync("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title><link rel=\"stylesheet\" href=\"/site.css\"></head>"
            + $"<body><main class=\"card\"><h1>Sorry</h1><p>{message}</p><p class=\"muted\">Reference: <code>{HtmlEncoder.Default.Encode(correlationId)}</code></p>"
            + "<p><a href=\"/\">Back to the start</a></p></main></body></html>", cancellationToken);
        return true;
    }

    /// <summary>Connection failures, timeouts and provider errors that mean "the database cannot answer now".</summary>
    internal static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is DbException or TimeoutException or System.Net.Sockets.SocketException
                || current.GetType().FullName is "Microsoft.EntityFrameworkCore.Storage.RetryLimitExceededException")
            {
                return true;
            }
        }

        return false;
    }
}

public static class UnhandledErrorsSetup
{
    public static IServiceCollection AddUnhandledErrors(this IServiceCollection services)
    {
        services.AddExceptionHandler<UnhandledErrors>();
        services.AddProblemDetails();
        return services;
    }
}
