using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.Interop;

/// <summary>
/// Serves the single-page app in <c>spa/</c> and oidc-client-ts's browser bundle from its own loopback port: another
/// origin than the identity server's, as a real SPA is, so every token, userinfo and revocation call crosses origins.
/// </summary>
internal sealed class SpaHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SpaHost(WebApplication app, string origin)
    {
        _app = app;
        Origin = origin;
    }

    /// <summary>For example http://127.0.0.1:41235 (no trailing slash).</summary>
    public string Origin { get; }

    /// <summary>The client the app signs in with; set once it is registered (its redirect URI names <see cref="Origin"/>).</summary>
    public string ClientId { get; set; } = "";

    public static async Task<SpaHost> StartAsync(string authority)
    {
        var origin = $"http://127.0.0.1:{Infrastructure.KestrelServer.FreeLoopbackPort()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(origin);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var host = new SpaHost(app, origin);
        var folder = RelyingPartyScript.Folder;
        app.MapGet("/config.json", () => Results.Json(new { authority, clientId = host.ClientId }));
        app.MapGet("/oidc-client-ts.min.js", () =>
            Results.File(Path.Combine(folder, "node_modules", "oidc-client-ts", "dist", "browser", "oidc-client-ts.min.js"), "text/javascript"));
        app.MapGet("/app.js", () => Results.File(Path.Combine(folder, "spa", "app.js"), "text/javascript"));
        app.MapGet("/favicon.ico", () => Results.NoContent());
        app.MapFallback(() => Results.File(Path.Combine(folder, "spa", "index.html"), "text/html"));
        await app.StartAsync();
        return host;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
