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
        if (IsHttpsRequiredForForm(httpContext, exception))
        {
            await HttpsRequiredAsync(httpContext, cancellationToken);
            return true;
        }

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

    /// <summary>
    /// A form (its antiforgery cookie is Secure when the issuer is https) reached over plain http: a proxy terminated TLS
    /// but did not say so (X-Forwarded-Proto), or is not a configured proxy. That is the deployment's error, not ours:
    /// a 400 page that says what to fix, never a 500.
    /// </summary>
    private static bool IsHttpsRequiredForForm(HttpContext context, Exception exception) =>
        !context.Request.IsHttps && exception is InvalidOperationException { Source: "Microsoft.AspNetCore.Antiforgery" };

    private async Task HttpsRequiredAsync(HttpContext context, CancellationToken cancellationToken)
    {
        logger.LogWarning("A form was requested over http at {Path}; the issuer is https. If a proxy terminates TLS, it must send "
            + "X-Forwarded-Proto and be listed in ForwardedHeaders:KnownProxies or KnownNetworks", context.Request.Path.Value);
        var response = context.Response;
        response.Clear();
        response.StatusCode = StatusCodes.Status400BadRequest;
        response.Headers.CacheControl = "no-store";
        response.ContentType = "text/html; charset=utf-8";
        await response.WriteAsync("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Use https</title><link rel=\"stylesheet\" href=\"/site.css\"></head>"
            + "<body><main class=\"card\"><h1>This page needs https</h1><p>The request reached the server over plain http, and this "
            + "page is only served over https.</p><p class=\"muted\">For the operator: a proxy in front of the server must forward "
            + "<code>X-Forwarded-Proto</code> and be listed in <code>ForwardedHeaders:KnownProxies</code> (docs/operations.md).</p>"
            + $"<p class=\"muted\">Reference: <code>{HtmlEncoder.Default.Encode(CorrelationId.Get(context))}</code></p></main></body></html>", cancellationToken);
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
