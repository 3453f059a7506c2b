using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Validation.AspNetCore;

namespace IdentityServer.Tests.Interop;

/// <summary>What the API answered: its status, the caller it saw (sub), and OpenIddict's WWW-Authenticate on a refusal.</summary>
internal sealed record ApiAnswer(HttpStatusCode Status, string? Subject, string? Challenge);

/// <summary>
/// An API protected by OpenIddict.Validation, told only our issuer: it finds the rest through our discovery document,
/// either validating our JWT access tokens offline against the JWKS, or asking our introspection endpoint on every call.
/// Only the test calls the API, so it runs in memory (TestServer); OpenIddict's own calls to our server go over the
/// network.
/// </summary>
internal sealed class OpenIddictResourceServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private OpenIddictResourceServer(WebApplication app)
    {
        _app = app;
        _http = app.GetTestClient();
    }

    /// <summary>Offline validation: signature through discovery and JWKS, issuer, expiry, token type, audience.</summary>
    public static Task<OpenIddictResourceServer> StartJwtAsync(KestrelServer server, params string[] audiences) =>
        StartAsync(server, audiences, introspectionClient: null);

    /// <summary>Introspection (RFC 7662) with this resource server's own client credentials.</summary>
    public static Task<OpenIddictResourceServer> StartIntrospectionAsync(KestrelServer server, TestClient client, params string[] audiences) =>
        StartAsync(server, audiences, client);

    private static async Task<OpenIddictResourceServer> StartAsync(KestrelServer server, string[] audiences, TestClient? introspectionClient)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddAuthentication(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        builder.Services.AddAuthorization();
        builder.Services.AddOpenIddict().AddValidation(options =>
        {
            options.SetIssuer(new Uri(server.IssuerUri, UriKind.Absolute));
            options.AddAudiences(audiences);
            if (introspectionClient is not null)
            {
                options.UseIntrospection().SetClientId(introspectionClient.ClientId).SetClientSecret(introspectionClient.Secret!);
            }

            // Expiry is judged on the server's fake clock, as synchronized clocks would judge it.
            options.Configure(o => o.TimeProvider = server.Time);
            options.UseSystemNetHttp();
            options.UseAspNetCore();
        });

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/api/me", (ClaimsPrincipal user) => Results.Text(user.FindFirst("sub")?.Value ?? "")).RequireAuthorization();
        await app.StartAsync();
        return new OpenIddictResourceServer(app);
    }

    public async Task<ApiAnswer> CallAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new ApiAnswer(response.StatusCode, response.IsSuccessStatusCode ? body : null,
            response.Headers.WwwAuthenticate.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }
}
