using System.Text.Json;
using System.Text.Json.Serialization;
using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Tokens;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityServer.Protocol;

/// <summary>
/// Dynamic client registration (RFC 7591 §3), off unless DynamicClientRegistration:Enabled. Every request needs an
/// initial access token an admin issued (§3: "the authorization server MAY require an initial access token"), sent as
/// a bearer token (RFC 6750 §2.1). What a self-registered client may be is narrower than what an admin may register:
/// always third-party (the person is asked for consent), only the code flow and refresh tokens, only the scopes in
/// DynamicClientRegistration:AllowedScopes, never introspection.
/// </summary>
internal static class DynamicRegistrationEndpoint
{
    private const string Realm = "registration";
    private static readonly string[] DynamicGrantTypes = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken];

    public static IServiceCollection AddDynamicRegistration(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.BindSetting<DynamicRegistrationOptions>(DynamicRegistrationOptions.Section));
        services.AddScoped<InitialAccessTokens>();
        return services;
    }

    /// <summary>The registration endpoint, when DynamicClientRegistration:Enabled.</summary>
    public static IEndpointRouteBuilder MapDynamicRegistration(this IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetRequiredService<DynamicRegistrationOptions>().Enabled)
        {
            app.MapPost(DynamicRegistrationOptions.Path, HandleAsync).DisableAntiforgery().ExcludeFromDescription();
        }

        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, InitialAccessTokens tokens, ClientRegistry clients,
        DynamicRegistrationOptions options)
    {
        // Registration answers carry secrets: never cached (§3.2.1).
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        var cancellationToken = context.RequestAborted;
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            // RFC 6750 §3.1: no credentials at all -> a bare challenge, no error code.
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{Realm}\"";
            return TypedResults.Unauthorized();
        }

        var tokenId = await tokens.FindAsync(header["Bearer ".Length..].Trim(), cancellationToken);
        if (tokenId is null)
        {
            return InvalidToken(context);
        }

        var (body, readError) = await RegistrationJson.ReadAsync<RegistrationRequest>(context.Request);
        if (readError is not null)
        {
            return readError;
        }

        var (definition, error) = ToDefinition(body!, options);
        error ??= await clients.ValidateAsync(definition!, cancellationToken);
        if (error is not null)
        {
            return TypedResults.BadRequest(ErrorResponse.From(error));
        }

        // Spent only for a registration that will happen; a concurrent use may have taken the last one.
        if (!await tokens.TryUseAsync(tokenId, cancellationToken))
        {
            return InvalidToken(context);
        }

        var creation = await clients.CreateAsync(definition!, AdminActor.Registration(tokenId), cancellationToken);
        if (creation.Created is null)
        {
            return TypedResults.BadRequest(ErrorResponse.From(creation.Error!));
        }

        var (client, secret) = creation.Created;
        var d = client.Definition;
        return TypedResults.Created((string?)null, new RegistrationResponse(
            d.ClientId!,
            secret,
            new DateTimeOffset(client.CreatedAt).ToUnixTimeSeconds(),
            secret is null ? null : 0, // §3.2.1: 0 = the secret does not expire
            d.DisplayName ?? d.ClientId!,
            d.RedirectUris,
            d.PostLogoutRedirectUris,
            d.GrantTypes,
            d.GrantTypes.Contains(GrantTypes.AuthorizationCode) ? ["code"] : [],
            d.IsConfidential ? body!.TokenEndpointAuthMethod ?? "client_secret_basic" : "none",
            string.Join(' ', d.Scopes),
            d.ClientUri,
            d.LogoUri,
            d.Settings.JwksUri,
            body!.Jwks is { ValueKind: System.Text.Json.JsonValueKind.Object } jwks ? jwks : null,
            d.Settings.RequirePushedAuthorizationRequests));
    }

    private static (ClientDefinition? Definition, ClientMetadataError? Error) ToDefinition(RegistrationRequest request, DynamicRegistrationOptions options)
    {
        if (request.SoftwareStatement is not null)
        {
            return (null, new ClientMetadataError(RegistrationErrors.InvalidSoftwareStatement, "Software statements are not accepted here.", "software_statement"));
        }

        // §2: the default method is client_secret_basic; "none" is a public client (a native app or a browser app).
        var method = request.TokenEndpointAuthMethod ?? "client_secret_basic";
        if (method is not ("none" or "client_secret_basic" or "client_secret_post" or ClientAuthenticationMethods.PrivateKeyJwt))
        {
            return (null, Metadata("token_endpoint_auth_method", "token_endpoint_auth_method must be none, client_secret_basic, client_secret_post or private_key_jwt."));
        }

        if (request.Jwks is { } jwks && jwks.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            return (null, Metadata("jwks", "jwks must be a JWK Set object (RFC 7517 §5)."));
        }

        var grantTypes = request.GrantTypes is { Count: > 0 } g ? g.Distinct(StringComparer.Ordinal).ToList() : [GrantTypes.AuthorizationCode];
        if (grantTypes.FirstOrDefault(t => !DynamicGrantTypes.Contains(t)) is { } refused)
        {
            return (null, Metadata("grant_types", $"The grant type '{refused}' cannot be registered dynamically; use authorization_code and refresh_token."));
        }

        // §2.1: response_types and grant_types must agree; only "code" exists here (RFC 9700 §2.1.2: no implicit).
        var responseTypes = request.ResponseTypes is { Count: > 0 } r ? r.Distinct(StringComparer.Ordinal).ToList() : ["code"];
        if (responseTypes.Any(t => t != "code"))
        {
            return (null, Metadata("response_types", "Only the response type 'code' is supported."));
        }

        if (!grantTypes.Contains(GrantTypes.AuthorizationCode))
        {
            return (null, Metadata("grant_types", "The response type 'code' needs the authorization_code grant type (RFC 7591 §2.1)."));
        }

        var scopes = request.Scope is null
            ? options.AllowedScopes
            : request.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        if (scopes.FirstOrDefault(s => !options.AllowedScopes.Contains(s)) is { } notAllowed)
        {
            return (null, Metadata("scope", $"The scope '{notAllowed}' cannot be registered dynamically."));
        }

        return (new ClientDefinition
        {
            ClientId = null,
            DisplayName = request.ClientName,
            ClientType = method == "none" ? ClientTypes.Public : ClientTypes.Confidential,
            ConsentType = ConsentTypes.Explicit,
            ClientUri = request.ClientUri,
            LogoUri = request.LogoUri,
            RedirectUris = request.RedirectUris ?? [],
            PostLogoutRedirectUris = request.PostLogoutRedirectUris ?? [],
            GrantTypes = grantTypes,
            Scopes = scopes,
            Settings = new ClientSettings
            {
                BackchannelLogoutUri = request.BackchannelLogoutUri,
                BackchannelLogoutSessionRequired = request.BackchannelLogoutSessionRequired,
                RequirePushedAuthorizationRequests = request.RequirePushedAuthorizationRequests,
                TokenEndpointAuthMethod = method == ClientAuthenticationMethods.PrivateKeyJwt ? method : null,
                JwksUri = request.JwksUri,
                Jwks = request.Jwks?.GetRawText(),
                DpopBoundAccessTokens = request.DpopBoundAccessTokens,
            },
        }, null);
    }

    private static IResult InvalidToken(HttpContext context)
    {
        const string description = "The initial access token is invalid, expired or used up.";
        context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{Realm}\", error=\"{OAuthErrors.InvalidToken}\", error_description=\"{description}\"";
        return RegistrationJson.Error(StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken, description);
    }

    private static ClientMetadataError Metadata(string field, string description) => new(RegistrationErrors.InvalidClientMetadata, description, field);
}
