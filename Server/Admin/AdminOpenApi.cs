using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace IdentityServer.Admin;

/// <summary>The OpenAPI description of the admin API (<c>/openapi/v1.json</c>): only /admin/api, with its bearer scheme.</summary>
internal static class AdminOpenApi
{
    public const string DocumentName = "v1";
    private const string SecuritySchemeName = "admin_token";

    public static void Configure(OpenApiOptions options)
    {
        options.ShouldInclude = description => description.RelativePath?.StartsWith("admin/api/", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Identity server admin API",
                Version = DocumentName,
                Description = "Register and manage OAuth clients, scopes, grants, users and their roles and claims. Authenticate with an access token of this "
                    + "server carrying the 'admin' scope, obtained with the authorization-code flow by a person holding the admin role. "
                    + "Errors have the RFC 7591 shape: {\"error\": ..., \"error_description\": ...}.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SecuritySchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "An RFC 9068 access token of this server with the admin scope (RFC 6750 Authorization header).",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecuritySchemeName, document)] = [] }];
            return Task.CompletedTask;
        });
    }
}
