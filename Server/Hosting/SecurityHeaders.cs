namespace IdentityServer.Hosting;

/// <summary>
/// Headers every answer carries: no MIME sniffing, no referrer (URLs here carry codes and state), no framing
/// (clickjacking of the sign-in and consent pages), and for HTML a Content-Security-Policy without inline script.
/// Endpoints that need their own policy (the form_post page) set it first and keep it. No form-action directive:
/// browsers apply it to the redirect chain after a form POST, which must end at the client's redirect URI.
/// </summary>
public static class SecurityHeaders
{
    public const string PagePolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true
                && !headers.ContainsKey("Content-Security-Policy"))
            {
                headers.ContentSecurityPolicy = PagePolicy;
            }

            return Task.CompletedTask;
        });
        return next(context);
    });
}
