using System.Collections.Concurrent;
using System.Security.Claims;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Client;
using OpenIddict.Client.AspNetCore;

namespace IdentityServer.Tests.Interop;

/// <summary>What the relying party got from a sign-in: OpenIddict's merged principal (ID token and userinfo) and its tokens.</summary>
internal sealed record RelyingPartySignIn(ClaimsPrincipal Principal, string AccessToken, string IdentityToken, string? RefreshToken);

/// <summary>
/// A web app (confidential client) built on OpenIddict.Client, on its own loopback port so a real browser can reach its
/// callbacks: <c>/login</c> challenges, OpenIddict runs the code flow with PKCE against our discovery document (state,
/// nonce, iss, code exchange, ID token and userinfo validation), <c>/logout</c> starts RP-initiated logout with the ID
/// token as hint. The test reads what the app saw from <see cref="SignIn"/> and <see cref="Outcome"/>, and calls
/// <see cref="Service"/> for the back-channel flows (refresh, client credentials, revocation). No test code speaks the
/// protocol: OpenIddict does.
/// </summary>
internal sealed class OpenIddictRelyingParty : IAsyncDisposable
{
    public const string CallbackPath = "/callback/login/local";
    public const string SignedOutPath = "/callback/logout/local";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _backchannel;

    private OpenIddictRelyingParty(WebApplication app, string origin, ConcurrentQueue<string> backchannel)
    {
        _app = app;
        Origin = origin;
        _backchannel = backchannel;
    }

    /// <summary>A fresh loopback origin, to register the client's redirect URIs before the app starts.</summary>
    public static string NewOrigin() => $"http://127.0.0.1:{KestrelServer.FreeLoopbackPort()}";

    /// <summary>For example http://127.0.0.1:41236 (no trailing slash).</summary>
    public string Origin { get; }

    public OpenIddictClientService Service => _app.Services.GetRequiredService<OpenIddictClientService>();

    /// <summary>The last successful sign-in.</summary>
    public RelyingPartySignIn? SignIn { get; private set; }

    /// <summary>What the last callback concluded: "signed-in", "signed-out", or the failure OpenIddict reported.</summary>
    public string? Outcome { get; private set; }

    /// <summary>OpenIddict's back-channel requests to the server, in order, as "POST /connect/token".</summary>
    public IReadOnlyList<string> BackchannelRequests => [.. _backchannel];

    public static async Task<OpenIddictRelyingParty> StartAsync(string origin, KestrelServer server, TestClient client, params string[] scopes)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(origin);
        builder.Logging.ClearProviders();
        builder.Services.AddAuthentication();
        var backchannel = new ConcurrentQueue<string>();
        // OpenIddict's HttpClients come from IHttpClientFactory: a handler on every client records what it asks the server.
        builder.Services.ConfigureHttpClientDefaults(http => http.AddHttpMessageHandler(() => new RecordingHandler(backchannel)));
        builder.Services.AddOpenIddict().AddClient(options =>
        {
            options.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow().AllowClientCredentialsFlow();
            // The app's own state tokens (OpenIddict encrypts and signs its state parameter) need keys; nothing outlives the test.
            options.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
            // No OpenIddict database on the client side: the state token is self-contained, an encrypted JWT of about 4 KB
            // in the state parameter (the server once refused it: AuthorizationRequestValidator.MaxStateLength). A web app
            // that cares about replayed states keeps token storage; the server's single-use code already stops a replayed
            // callback.
            options.DisableTokenStorage();
            options.SetRedirectionEndpointUris(CallbackPath[1..]).SetPostLogoutRedirectionEndpointUris(SignedOutPath[1..]);
            // The server's fake clock is the clock of every party here, as synchronized clocks are in production.
            options.Configure(o => o.TimeProvider = server.Time);
            options.UseAspNetCore()
                .EnableRedirectionEndpointPassthrough()
                .EnablePostLogoutRedirectionEndpointPassthrough()
                .EnableErrorPassthrough()
                // OpenIddict refuses plain http for the app's own endpoints; the test app listens on loopback http only,
                // as the server does (a production app is behind https).
                .DisableTransportSecurityRequirement();
            options.UseSystemNetHttp();
            options.AddRegistration(new OpenIddictClientRegistration
            {
                Issuer = new Uri(server.IssuerUri, UriKind.Absolute),
                ClientId = client.ClientId,
                ClientSecret = client.Secret,
                RedirectUri = new Uri(origin + CallbackPath, UriKind.Absolute),
                PostLogoutRedirectUri = new Uri(origin + SignedOutPath, UriKind.Absolute),
            }.WithScopes(scopes));
        });

        var app = builder.Build();
        var host = new OpenIddictRelyingParty(app, origin, backchannel);
        app.MapGet("/login", () => Results.Challenge(new AuthenticationProperties { RedirectUri = "/" },
            [OpenIddictClientAspNetCoreDefaults.AuthenticationScheme]));
        app.MapMethods(CallbackPath, [HttpMethods.Get, HttpMethods.Post], async (HttpContext context) =>
        {
            var result = await context.AuthenticateAsync(OpenIddictClientAspNetCoreDefaults.AuthenticationScheme);
            if (!result.Succeeded)
            {
                return host.Fail(result);
            }

            var properties = result.Properties!;
            host.SignIn = new RelyingPartySignIn(result.Principal!,
                properties.GetTokenValue(OpenIddictClientAspNetCoreConstants.Tokens.BackchannelAccessToken)!,
                properties.GetTokenValue(OpenIddictClientAspNetCoreConstants.Tokens.BackchannelIdentityToken)!,
                properties.GetTokenValue(OpenIddictClientAspNetCoreConstants.Tokens.RefreshToken));
            host.Outcome = "signed-in";
            return Results.Text("signed-in", "text/plain");
        });
        app.MapGet("/logout", () =>
        {
            var properties = new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictClientAspNetCoreConstants.Properties.IdentityTokenHint] = host.SignIn?.IdentityToken,
            })
            { RedirectUri = "/" };
            return Results.SignOut(properties, [OpenIddictClientAspNetCoreDefaults.AuthenticationScheme]);
        });
        app.MapMethods(SignedOutPath, [HttpMethods.Get, HttpMethods.Post], async (HttpContext context) =>
        {
            // OpenIddict checks the state it sent with the logout request before this runs.
            var result = await context.AuthenticateAsync(OpenIddictClientAspNetCoreDefaults.AuthenticationScheme);
            if (!result.Succeeded)
            {
                return host.Fail(result);
            }

            host.SignIn = null;
            host.Outcome = "signed-out";
            return Results.Text("signed-out", "text/plain");
        });
        await app.StartAsync();
        return host;
    }

    private IResult Fail(AuthenticateResult result)
    {
        var properties = result.Properties;
        Outcome = $"failed: {result.Failure?.Message} {properties?.GetString(OpenIddictClientAspNetCoreConstants.Properties.Error)} "
            + properties?.GetString(OpenIddictClientAspNetCoreConstants.Properties.ErrorDescription);
        return Results.Text(Outcome, "text/plain", statusCode: StatusCodes.Status400BadRequest);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private sealed class RecordingHandler(ConcurrentQueue<string> requests) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            requests.Enqueue(request.Method + " " + request.RequestUri!.AbsolutePath);
            return base.SendAsync(request, cancellationToken);
        }
    }
}

internal static class OpenIddictClientRegistrationExtensions
{
    public static OpenIddictClientRegistration WithScopes(this OpenIddictClientRegistration registration, IEnumerable<string> scopes)
    {
        foreach (var scope in scopes)
        {
            registration.Scopes.Add(scope);
        }

        return registration;
    }
}
