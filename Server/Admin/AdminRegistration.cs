using System.Text.Json.Serialization.Metadata;
using IdentityServer.Admin.Cli;
using IdentityServer.Hosting;
using IdentityServer.Hosting.Cli;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace IdentityServer.Admin;

public static class AdminRegistration
{
    /// <summary>The admin services, the admin API's token scheme, the admin policies (API and pages) and the OpenAPI document.</summary>
    public static WebApplicationBuilder AddAdmin(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddSingleton(builder.Configuration.BindSetting<AdminOptions>(AdminOptions.Section));
        services.AddScoped<ClientAdminService>();
        services.AddScoped<ScopeAdminService>();
        services.AddScoped<UserAdminService>();
        services.AddScoped<InitialAccessTokenService>();

        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminApiAuthentication>(AdminApiAuthentication.SchemeName, null);
        services.AddAuthorization(AdminPolicies.Add);
        services.AddScoped<IAuthorizationHandler, AdminRequirementHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AdminTwoFactor.ResultHandler>();
        // Every page under /admin needs an admin; a convention, so a new page cannot forget it.
        services.AddRazorPages(options =>
        {
            options.Conventions.AuthorizeFolder("/Admin", AdminPolicies.Pages);
            // The client list answers at /admin (the admin home) and at /admin/clients (the nav's link).
            options.Conventions.AddPageRoute("/Admin/Index", "admin/clients");
        });
        // The per-client settings in the admin API's client JSON (and its OpenAPI schema), from their one table.
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolver =
            (options.SerializerOptions.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(ClientMetadataJson.AddSettings));
        services.AddOpenApi(AdminOpenApi.DocumentName, AdminOpenApi.Configure);
        services.AddCommand<AdminCommand>();
        services.AddCommand<ClientsCommand>();
        services.AddCommand<UsersCommand>();
        return builder;
    }

    /// <summary>The admin API under /admin/api and its OpenAPI document.</summary>
    public static WebApplication MapAdmin(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var api = app.MapGroup("/admin/api")
            .RequireAuthorization(AdminPolicies.Api)
            .DisableAntiforgery() // bearer tokens, never cookies: nothing for a forged cross-site request to ride on
            .AddEndpointFilter(async (context, next) =>
            {
                // Answers may carry secrets and personal data.
                context.HttpContext.Response.Headers.CacheControl = "no-store";
                return await next(context);
            });
        api.MapClientsApi();
        api.MapScopesApi();
        api.MapAccountsApi();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapAdminApiReference();
        return app;
    }
}
