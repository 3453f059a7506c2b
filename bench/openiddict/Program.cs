// bench/run.sh's third server: a stock OpenIddict 7.9 server (OpenIddict.AspNetCore + OpenIddict.EntityFrameworkCore on
// SQLite), configured the way bench/run.sh configures ours and oidc-provider. Only this configuration is the bench's;
// OpenIddict itself is used as published. Everything comes from the environment run.sh sets:
//   PORT, ISSUER, SIGNING_KEY (path of the same PEM the others sign with: RSA-2048 -> RS256, P-256 -> ES256),
//   CLIENT_ID/CLIENT_SECRET (the app), API_ID/API_SECRET (the resource server that introspects), RESOURCE (its resource
//   indicator), REDIRECT_URI, USER_ID (the one account), DATA_DIR (SQLite database and data-protection keys).
//
// Equivalence with our server:
//   - a confidential client (client_secret_basic) allowed authorization_code + refresh_token + client_credentials, PKCE
//     required and S256 only; a second confidential client, the resource server, allowed to introspect;
//   - JWT access tokens, signed and not encrypted (DisableAccessTokenEncryption), 10 minutes, for the resource named by
//     the RFC 8707 `resource` parameter; ID tokens 10 minutes, codes 60 s. Two differences OpenIddict imposes:
//     * run.sh gives it RESOURCE with a trailing slash ("https://api.bench.test/"): OpenIddict keeps the resources it
//       accepts as URIs, which gives an empty path a "/", and then refuses the indicator without it (invalid_target);
//     * the access tokens' audiences are the resource and the resource server's client id (API_ID): OpenIddict lets a
//       client introspect an access token only when it is one of the token's audiences or its presenter (otherwise
//       {"active":false}); ours instead links the resource server's client to its resource;
//   - client secrets stored as OpenIddict stores them (its default hash, PBKDF2), checked on every request that
//     authenticates a client;
//   - reference refresh tokens (UseReferenceRefreshTokens), rolling (OpenIddict's default: a new one on every use, the
//     used one marked redeemed), with no reuse leeway (SetRefreshTokenReuseLeeway(TimeSpan.Zero)), sliding 14 days;
//   - codes, tokens and authorizations stored through OpenIddict.EntityFrameworkCore in SQLite, with the SQLite settings
//     ours uses (WAL, and SQLite's own busy handler for a second writer: see SqliteBusyTimeout below);
//   - the user's session: an ASP.NET Core cookie (the usual companion of an OpenIddict server). The sign-in page signs the
//     one bench user in without a form, like oidc-provider's interaction handler in bench/oidc-provider/server.mjs; it
//     is reached only while bench/prepare.mjs sets up the session, never during the measured runs. Consent is implicit
//     (as for ours' seeded client): the authorization endpoint answers a signed-in user with a code at once.
//
// The authorization and token endpoints run in OpenIddict's pass-through mode: OpenIddict validates the request, then
// the endpoints below decide who is signed in, as its documentation describes.
using System.Data.Common;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

static string Env(string name) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set");

var port = Env("PORT");
var issuer = Env("ISSUER");
var resource = Env("RESOURCE");
var userId = Env("USER_ID");
var apiId = Env("API_ID");
var dataDirectory = Env("DATA_DIR");
Directory.CreateDirectory(dataDirectory);

var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole();
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var connectionString = new SqliteConnectionStringBuilder
{
    DataSource = Path.Combine(dataDirectory, "openiddict.db"),
    Pooling = true,
}.ToString();
builder.Services.AddDbContext<BenchDbContext>(options =>
{
    options.UseSqlite(connectionString);
    options.AddInterceptors(new SqliteBusyTimeout(TimeSpan.FromSeconds(30)));
    options.UseOpenIddict();
});

builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys")));
builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
    .AddCookie(options =>
    {
        options.Cookie.Name = "bench.session";
        options.LoginPath = "/account/login";
        options.ExpireTimeSpan = TimeSpan.FromHours(8);
    });
builder.Services.AddAuthorization();

builder.Services.AddOpenIddict()
    .AddCore(options => options.UseEntityFrameworkCore().UseDbContext<BenchDbContext>())
    .AddServer(options =>
    {
        options.SetIssuer(new Uri(issuer));
        options.SetAuthorizationEndpointUris("connect/authorize")
            .SetTokenEndpointUris("connect/token")
            .SetIntrospectionEndpointUris("connect/introspect")
            .SetRevocationEndpointUris("connect/revoke")
            .SetJsonWebKeySetEndpointUris(".well-known/jwks");

        options.AllowAuthorizationCodeFlow()
            .AllowRefreshTokenFlow()
            .AllowClientCredentialsFlow();
        options.RequireProofKeyForCodeExchange();
        // S256 only, as ours: "plain" is enabled by default.
        options.Configure(o => o.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain));

        options.RegisterScopes(Scopes.OpenId, Scopes.OfflineAccess, "api");
        options.RegisterResources(resource);

        options.SetAccessTokenLifetime(TimeSpan.FromMinutes(10))
            .SetIdentityTokenLifetime(TimeSpan.FromMinutes(10))
            .SetAuthorizationCodeLifetime(TimeSpan.FromSeconds(60))
            .SetRefreshTokenLifetime(TimeSpan.FromDays(14));
        options.UseReferenceRefreshTokens();
        options.SetRefreshTokenReuseLeeway(TimeSpan.Zero);
        options.DisableAccessTokenEncryption();

        options.AddSigningKey(LoadSigningKey(Env("SIGNING_KEY")));
        // Codes and refresh-token payloads are encrypted (JWE); a symmetric key, as OpenIddict's documentation advises
        // for production, made for this process (nothing outlives a bench run).
        options.AddEncryptionKey(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)));

        options.UseAspNetCore()
            .EnableAuthorizationEndpointPassthrough()
            .EnableTokenEndpointPassthrough()
            .DisableTransportSecurityRequirement(); // plain HTTP on loopback, as the other servers
    });

var app = builder.Build();

// The database and the two clients, before the server listens (run.sh times the start to the first discovery answer).
await using (var scope = app.Services.CreateAsyncScope())
{
    var db = scope.ServiceProvider.GetRequiredService<BenchDbContext>();
    await db.Database.EnsureCreatedAsync();
    await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
    var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
    if (await applications.FindByClientIdAsync(Env("CLIENT_ID")) is null)
    {
        var client = new OpenIddictApplicationDescriptor
        {
            ClientId = Env("CLIENT_ID"),
            ClientSecret = Env("CLIENT_SECRET"),
            ClientType = ClientTypes.Confidential,
            ConsentType = ConsentTypes.Implicit,
            RedirectUris = { new Uri(Env("REDIRECT_URI")) },
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.Endpoints.Revocation,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.GrantTypes.ClientCredentials,
                Permissions.ResponseTypes.Code,
                Permissions.Prefixes.Scope + "api",
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        client.AddResourcePermissions(resource);
        await applications.CreateAsync(client);
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = Env("API_ID"),
            ClientSecret = Env("API_SECRET"),
            ClientType = ClientTypes.Confidential,
            Permissions = { Permissions.Endpoints.Introspection },
        });
    }
}

app.UseAuthentication();
app.UseAuthorization();

// The bench user's sign-in, without a form (see the header comment).
app.MapGet("/account/login", async (HttpContext http, string? returnUrl) =>
{
    var identity = new ClaimsIdentity(CookieAuthenticationDefaults.AuthenticationScheme);
    identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, userId));
    await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
    return Results.LocalRedirect(string.IsNullOrEmpty(returnUrl) ? "/" : returnUrl);
});

// Authorization endpoint (pass-through): a signed-in user gets a code for what the validated request asks; anyone else
// is sent to the sign-in page and back.
app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], async (HttpContext http) =>
{
    var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("not an OpenID Connect request");
    var session = await http.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    if (!session.Succeeded || session.Principal.FindFirst(ClaimTypes.NameIdentifier)?.Value is not { } subject)
    {
        return Results.Challenge(new AuthenticationProperties { RedirectUri = http.Request.PathBase + http.Request.Path + http.Request.QueryString },
            [CookieAuthenticationDefaults.AuthenticationScheme]);
    }

    var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
    identity.SetClaim(Claims.Subject, subject);
    identity.SetScopes(request.GetScopes());
    // The resource asked for, and the resource server's client id, so that it may introspect the token (header comment).
    identity.SetResources([.. request.GetResources(), apiId]);
    identity.SetDestinations(static claim => claim.Type == Claims.Subject
        ? [Destinations.AccessToken, Destinations.IdentityToken]
        : [Destinations.AccessToken]);
    return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
});

// Token endpoint (pass-through): client_credentials makes the client's own principal; a code or a refresh token
// carries the principal OpenIddict stored with it, signed in again as it is (the code's and token's checks are
// OpenIddict's).
app.MapPost("/connect/token", async (HttpContext http) =>
{
    var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("not an OpenID Connect request");
    if (request.IsClientCredentialsGrantType())
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, request.ClientId);
        identity.SetScopes(request.GetScopes());
        identity.SetResources([.. request.GetResources(), apiId]);
        identity.SetDestinations(static _ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    if (result.Principal is not { } principal)
    {
        return Results.Forbid(authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    return Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
});

await app.RunAsync();

static SecurityKey LoadSigningKey(string path)
{
    // The PEM's algorithm decides, as for ours: an RSA key signs RS256, a P-256 key ES256.
    var pem = File.ReadAllText(path);
    var rsa = RSA.Create();
    try
    {
        rsa.ImportFromPem(pem);
        return new RsaSecurityKey(rsa);
    }
    catch (Exception e) when (e is ArgumentException or CryptographicException)
    {
        rsa.Dispose();
        var ec = ECDsa.Create();
        ec.ImportFromPem(pem);
        return new ECDsaSecurityKey(ec);
    }
}

/// <summary>The OpenIddict entity sets (applications, authorizations, scopes, tokens), and nothing else.</summary>
internal sealed class BenchDbContext(DbContextOptions<BenchDbContext> options) : DbContext(options);

/// <summary>
/// SQLite's busy handler (retries after 1, 2, 5 ... ms) for a second writer, as ours sets it: Microsoft.Data.Sqlite's
/// own retry loop sleeps 150 ms between attempts, which would make concurrent token requests queue in 150 ms steps.
/// </summary>
internal sealed class SqliteBusyTimeout(TimeSpan timeout) : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            SQLitePCL.raw.sqlite3_busy_timeout(handle, (int)timeout.TotalMilliseconds);
        }
    }
}
