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

/// <summary>Dynamic client registration (RFC 7591), section <c>DynamicClientRegistration</c>. Off by default.</summary>
public sealed class DynamicRegistrationOptions
{
    public const string Section = "DynamicClientRegistration";
    public const string Path = "/connect/register";

    public bool Enabled { get; set; }

    /// <summary>The scopes a self-registered client may have; a registration asking for others is refused.</summary>
    public List<string> AllowedScopes { get; set; } = [ScopeCatalog.OpenId, ScopeCatalog.Profile, ScopeCatalog.Email, ScopeCatalog.OfflineAccess];

    /// <summary>How long an initial access token an admin issues stays usable, unless the admin says otherwise.</summary>
    public TimeSpan InitialAccessTokenLifetime { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>An RFC 7591 §3.2.2 error: <c>error</c> and a sentence for people in <c>error_description</c>. The admin API answers its errors in this shape too.</summary>
public sealed record ErrorResponse(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string? ErrorDescription)
{
    public static ErrorResponse From(ClientMetadataError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new ErrorResponse(error.Error, error.Description);
    }
}

/// <summary>Reading a JSON body and answering an error in the RFC 7591 §3.2.2 shape; the admin API reads its bodies the same way.</summary>
internal static class RegistrationJson
{
    /// <summary>
    /// The JSON body, or the RFC 7591-shaped 400 to answer instead: not JSON, malformed, not an object, wrong types, a
    /// <c>null</c> inside an array or a nested object (named by its path: it would otherwise be stored as an empty value),
    /// and, when <paramref name="knownFieldsOf"/> is given, a field that type does not have. A <c>null</c> top-level field
    /// means the field is left out. RFC 7591 §2 has registration ignore metadata it does not understand, so only the admin
    /// API refuses unknown fields.
    /// </summary>
    public static async Task<(T? Body, IResult? Error)> ReadAsync<T>(HttpRequest request, bool optional = false, Type? knownFieldsOf = null)
        where T : class, new()
    {
        if (optional && request.ContentLength is null or 0 && !request.HasJsonContentType())
        {
            return (new T(), null);
        }

        if (!request.HasJsonContentType())
        {
            return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "The body must be application/json."));
        }

        var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, default, request.HttpContext.RequestAborted);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return document.RootElement.ValueKind == JsonValueKind.Null
                    ? (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "The body must be a JSON object."))
                    : (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidClientMetadata, "The body must be a JSON object of client metadata."));
            }

            if (NullInside(document.RootElement, "", topLevel: true) is { } nullPath)
            {
                return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidClientMetadata,
                    $"{nullPath} is null; give a value or leave the field out."));
            }

            if (knownFieldsOf is not null && UnknownField(document.RootElement, options, typeof(T), knownFieldsOf) is { } unknown)
            {
                return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidClientMetadata, $"Unknown field '{Shorten(unknown)}'."));
            }

            return (document.RootElement.Deserialize<T>(options) ?? new T(), null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException { InnerException: System.Text.DecoderFallbackException })
        {
            // Malformed, of the wrong types, or not UTF-8 (found when a name or string is read).
            var where = e is JsonException { Path: { Length: > 1 } path } ? $" at {path}" : "";
            return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidClientMetadata, $"The body is not valid JSON for this request{where}."));
        }
    }

    /// <summary>The path of the first null in an array or a nested object, or null when there is none.</summary>
    private static string? NullInside(JsonElement element, string path, bool topLevel)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                var childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (property.Value.ValueKind == JsonValueKind.Null)
                {
                    if (!topLevel)
                    {
                        return Shorten(childPath);
                    }
                }
                else if (NullInside(property.Value, childPath, topLevel: false) is { } inner)
                {
                    return inner;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                var itemPath = $"{path}[{index++}]";
                if (item.ValueKind == JsonValueKind.Null)
                {
                    return Shorten(itemPath);
                }

                if (NullInside(item, itemPath, topLevel: false) is { } inner)
                {
                    return inner;
                }
            }
        }

        return null;
    }

    /// <summary>The first top-level field that neither the request type nor <paramref name="alsoKnown"/> (its answer, sent back) has.</summary>
    private static string? UnknownField(JsonElement body, JsonSerializerOptions options, Type requestType, Type alsoKnown)
    {
        var known = options.GetTypeInfo(requestType).Properties.Select(p => p.Name)
            .Concat(options.GetTypeInfo(alsoKnown).Properties.Select(p => p.Name))
            .ToHashSet(StringComparer.Ordinal);
        return body.EnumerateObject().Select(p => p.Name).FirstOrDefault(name => !known.Contains(name));
    }

    private static string Shorten(string value) => value.Length > 100 ? value[..100] + "..." : value;

    public static IResult Error(int status, string error, string description) => TypedResults.Json(new ErrorResponse(error, description), statusCode: status);
}

/// <summary>
/// The initial access tokens (RFC 7591 §3) a registration presents: found by value and spent one use at a time. Admins
/// issue, list and revoke them (IdentityServer.Admin's InitialAccessTokenService); the table holds only their SHA-256.
/// </summary>
public sealed class InitialAccessTokens(IdentityDbContext db, TimeProvider time)
{
    /// <summary>The id of the live token with this value, or null. Does not use it up (see <see cref="TryUseAsync"/>).</summary>
    public async Task<string?> FindAsync(string? value, CancellationToken cancellationToken)
    {
        if (!OpaqueToken.IsWellFormed(value))
        {
            return null;
        }

        var hash = OpaqueToken.Hash(value!);
        var now = time.GetUtcNow().UtcDateTime;
        return await db.InitialAccessTokens.AsNoTracking()
            .Where(t => t.ReferenceId == hash && t.ExpirationDate > now && t.RemainingUses > 0)
            .Select(t => t.Id).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Spends one use. One conditional UPDATE, so concurrent registrations can never spend more uses than there are.</summary>
    public async Task<bool> TryUseAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var changed = await db.InitialAccessTokens
            .Where(t => t.Id == id && t.RemainingUses > 0 && t.ExpirationDate > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RemainingUses, t => t.RemainingUses - 1), cancellationToken);
        return changed == 1;
    }
}

/// <summary>RFC 7591 §2 client metadata, as a registering client sends it. Unknown fields are ignored (§2).</summary>
public sealed class RegistrationRequest
{
    [JsonPropertyName("redirect_uris")] public List<string>? RedirectUris { get; set; }
    [JsonPropertyName("token_endpoint_auth_method")] public string? TokenEndpointAuthMethod { get; set; }
    [JsonPropertyName("grant_types")] public List<string>? GrantTypes { get; set; }
    [JsonPropertyName("response_types")] public List<string>? ResponseTypes { get; set; }
    [JsonPropertyName("client_name")] public string? ClientName { get; set; }
    [JsonPropertyName("client_uri")] public string? ClientUri { get; set; }
    [JsonPropertyName("logo_uri")] public string? LogoUri { get; set; }
    [JsonPropertyName("scope")] public string? Scope { get; set; }
    [JsonPropertyName("software_statement")] public string? SoftwareStatement { get; set; }
    [JsonPropertyName("post_logout_redirect_uris")] public List<string>? PostLogoutRedirectUris { get; set; }
    [JsonPropertyName("backchannel_logout_uri")] public string? BackchannelLogoutUri { get; set; }
    [JsonPropertyName("backchannel_logout_session_required")] public bool? BackchannelLogoutSessionRequired { get; set; }
}

/// <summary>RFC 7591 §3.2.1: the client information response.</summary>
public sealed record RegistrationResponse(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("client_secret"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientSecret,
    [property: JsonPropertyName("client_id_issued_at")] long ClientIdIssuedAt,
    [property: JsonPropertyName("client_secret_expires_at"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ClientSecretExpiresAt,
    [property: JsonPropertyName("client_name")] string ClientName,
    [property: JsonPropertyName("redirect_uris")] IReadOnlyList<string> RedirectUris,
    [property: JsonPropertyName("post_logout_redirect_uris")] IReadOnlyList<string> PostLogoutRedirectUris,
    [property: JsonPropertyName("grant_types")] IReadOnlyList<string> GrantTypes,
    [property: JsonPropertyName("response_types")] IReadOnlyList<string> ResponseTypes,
    [property: JsonPropertyName("token_endpoint_auth_method")] string TokenEndpointAuthMethod,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("client_uri"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientUri,
    [property: JsonPropertyName("logo_uri"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LogoUri);

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
            d.LogoUri));
    }

    private static (ClientDefinition? Definition, ClientMetadataError? Error) ToDefinition(RegistrationRequest request, DynamicRegistrationOptions options)
    {
        if (request.SoftwareStatement is not null)
        {
            return (null, new ClientMetadataError(RegistrationErrors.InvalidSoftwareStatement, "Software statements are not accepted here.", "software_statement"));
        }

        // §2: the default method is client_secret_basic; "none" is a public client (a native app or a browser app).
        var method = request.TokenEndpointAuthMethod ?? "client_secret_basic";
        if (method is not ("none" or "client_secret_basic" or "client_secret_post"))
        {
            return (null, Metadata("token_endpoint_auth_method", "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post."));
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
