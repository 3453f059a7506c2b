using Scalar.AspNetCore;

namespace IdentityServer.Admin;

/// <summary>
/// An interactive page for the admin API's OpenAPI description (Scalar), at <c>/admin/api-reference</c>, for signed-in
/// admins only. Requests sent from it need a bearer token (the page's authentication box): a service account's
/// client_credentials token, or a person's admin-scope token.
/// </summary>
internal static class AdminApiReference
{
    public const string Path = "/admin/api-reference";

    internal static string PagePolicy(string nonce) =>
        $"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    public static WebApplication MapAdminApiReference(this WebApplication app)
    {
        app.MapScalarApiReference(Path, options => options
                .WithTitle("Identity server admin API")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json")
                .DisableDefaultFonts() // from a CDN otherwise; the page's policy allows this server only
                .WithNonce())
            .RequireAuthorization(AdminPolicies.Pages)
            .Add(endpoint =>
            {
                // The page starts Scalar with one inline script, allowed by its per-request nonce and nothing else. Scalar
                // adds its styles at run time (inline style elements). Set before the server-wide policy, which then keeps it.
                var page = endpoint.RequestDelegate!;
                endpoint.RequestDelegate = context =>
                {
                    context.Response.OnStarting(() =>
                    {
                        if (context.Items[ScalarOptions.NonceHttpContextItemKey] is string nonce)
                        {
                            context.Response.Headers.ContentSecurityPolicy = PagePolicy(nonce);
                        }

                        return Task.CompletedTask;
                    });
                    return page(context);
                };
            });
        // Scalar serves the page at the address with a trailing slash; its own redirect from the one without leaves /admin
        // behind. Routing cannot tell the two apart, so the redirect is a step before the endpoint runs.
        app.Use((context, next) =>
        {
            if (context.Request.Path.Value == Path)
            {
                context.Response.Redirect(Path + "/");
                return Task.CompletedTask;
            }

            return next(context);
        });
        return app;
    }
}
