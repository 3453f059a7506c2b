using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>A client registered for a test, with its plaintext secret (only the hash is stored).</summary>
public sealed record TestClient(string ClientId, string? Secret, string RedirectUri, string ApplicationId);

/// <summary>Creates clients, scopes and users directly in the server's database; every name is unique per call.</summary>
public static class TestData
{
    public const string Password = "correct horse battery staple";
    private static readonly JsonSerializerOptions CamelCase = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static async Task<TestClient> CreateClientAsync(
        ServerFactory server,
        bool confidential = true,
        bool consent = false,
        string[]? grantTypes = null,
        string[]? scopes = null,
        string[]? resources = null,
        bool canIntrospect = false,
        string? resource = null,
        ClientSettings? settings = null,
        string[]? extraRedirectUris = null,
        string? clientId = null,
        string[]? postLogoutRedirectUris = null)
    {
        clientId ??= "client-" + Guid.NewGuid().ToString("N")[..12];
        var secret = confidential ? ClientSecrets.Generate() : null;
        var redirectUri = $"https://{clientId}.app.example/callback";
        var permissions = (grantTypes ?? ["authorization_code", "refresh_token"]).Select(g => "gt:" + g)
            .Concat((scopes ?? ["openid", "profile", "email", "offline_access"]).Select(s => "scp:" + s))
            .Concat((resources ?? []).Select(r => "rst:" + r))
            .Concat(canIntrospect ? ["ept:introspection"] : [])
            .ToArray();
        var clientSettings = settings ?? new ClientSettings();
        clientSettings.Resource ??= resource;
        var application = new OAuthApplication
        {
            ClientId = clientId,
            ClientSecretHash = secret is null ? null : ClientSecrets.Hash(secret),
            ClientType = confidential ? ClientTypes.Confidential : ClientTypes.Public,
            ConsentType = consent ? ConsentTypes.Explicit : ConsentTypes.Implicit,
            DisplayName = "Test app " + clientId,
            RedirectUris = JsonSerializer.Serialize(new[] { redirectUri }.Concat(extraRedirectUris ?? []).ToArray()),
            PostLogoutRedirectUris = JsonSerializer.Serialize(postLogoutRedirectUris ?? []),
            Permissions = JsonSerializer.Serialize(permissions),
            Settings = JsonSerializer.Serialize(clientSettings, CamelCase),
            CreationDate = DateTime.UtcNow,
        };
        await server.WithDatabaseAsync(async db =>
        {
            db.Applications.Add(application);
            await db.SaveChangesAsync();
        });
        return new TestClient(clientId, secret, redirectUri, application.Id);
    }

    public static async Task CreateScopeAsync(ServerFactory server, string name, params string[] resources)
    {
        await server.WithDatabaseAsync(async db =>
        {
            db.Scopes.Add(new OAuthScope { Name = name, DisplayName = "Access " + name, Resources = JsonSerializer.Serialize(resources) });
            await db.SaveChangesAsync();
        });
        server.Services.GetRequiredService<ScopeCatalog>().Invalidate();
    }

    /// <summary>A user with a verified email, and the test password unless <paramref name="password"/> is false (as a provider's first sign-in makes one).</summary>
    public static async Task<ApplicationUser> CreateUserAsync(ServerFactory server, string? userName = null, bool password = true)
    {
        userName ??= "user" + Guid.NewGuid().ToString("N")[..10];
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = new ApplicationUser
        {
            UserName = userName,
            Email = userName + "@example.com",
            EmailConfirmed = true,
            Name = "Test " + userName,
            UpdatedAt = DateTime.UtcNow,
        };
        var result = password ? await users.CreateAsync(user, Password) : await users.CreateAsync(user);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));
        return user;
    }

    public static (string Verifier, string Challenge) NewPkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        return (verifier, challenge);
    }
}
