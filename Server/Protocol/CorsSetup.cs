using System.Collections.Frozen;
using System.Text.Json;
using IdentityServer.Data;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Protocol;

/// <summary>
/// Cross-origin access for browser-based clients (SPAs): discovery and JWKS are public to every origin; the token,
/// userinfo and revocation endpoints answer origins that some registered client redirects to. CORS protects nothing
/// here by itself (client authentication and PKCE do), so the origin list may be stale for a few seconds.
/// </summary>
public static class CorsSetup
{
    public const string PublicMetadata = "public-metadata";
    public const string ClientOrigins = "client-origins";

    public static IServiceCollection AddProtocolCors(this IServiceCollection services)
    {
        services.AddCors();
        services.AddSingleton<RegisteredOrigins>();
        services.AddSingleton<ICorsPolicyProvider, ProtocolCorsPolicyProvider>();
        return services;
    }
}

internal sealed class ProtocolCorsPolicyProvider(RegisteredOrigins origins) : ICorsPolicyProvider
{
    private static readonly CorsPolicy Public = new CorsPolicyBuilder().AllowAnyOrigin().WithMethods("GET").AllowAnyHeader().Build();

    public async Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName)
    {
        if (policyName == CorsSetup.PublicMetadata)
        {
            return Public;
        }

        if (policyName != CorsSetup.ClientOrigins)
        {
            return null;
        }

        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || !await origins.IsRegisteredAsync(origin, context.RequestAborted))
        {
            return new CorsPolicyBuilder().Build(); // no origin allowed: the browser blocks the answer
        }

        return new CorsPolicyBuilder().WithOrigins(origin).WithMethods("GET", "POST")
            .WithHeaders("Authorization", "Content-Type", "DPoP")
            // RFC 9449 §8, §9: a browser client must be able to read the nonce and the DPoP challenge.
            .WithExposedHeaders("DPoP-Nonce", "WWW-Authenticate").SetPreflightMaxAge(TimeSpan.FromMinutes(10)).Build();
    }
}

/// <summary>The origins (scheme://host:port) of every enabled client's redirect URIs, reloaded at most every 30 s.</summary>
internal sealed class RegisteredOrigins(IServiceScopeFactory scopes)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);
    private volatile Snapshot? _snapshot;

    private sealed record Snapshot(FrozenSet<string> Origins, DateTime LoadedAt);

    public async ValueTask<bool> IsRegisteredAsync(string origin, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (snapshot is null || DateTime.UtcNow - snapshot.LoadedAt > MaxAge)
        {
            snapshot = await LoadAsync(cancellationToken);
            _snapshot = snapshot;
        }

        return snapshot.Origins.Contains(origin.TrimEnd('/'));
    }

    private async Task<Snapshot> LoadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        var redirectLists = await db.Applications.AsNoTracking().Where(a => a.Enabled).Select(a => a.RedirectUris).ToListAsync(cancellationToken);
        var origins = redirectLists
            .SelectMany(json => JsonSerializer.Deserialize<string[]>(json) ?? [])
            .Select(uri => Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" ? parsed.GetLeftPart(UriPartial.Authority) : null)
            .OfType<string>()
            .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        return new Snapshot(origins, DateTime.UtcNow);
    }
}
