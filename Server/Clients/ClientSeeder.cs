using System.Text.Json;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Clients;

/// <summary>Applies <see cref="ClientSeedOptions"/> at start, after migrations (hosted services start in registration order).</summary>
internal sealed class ClientSeeder(IServiceProvider services, ClientSeedOptions options, TimeProvider time, ILogger<ClientSeeder> logger)
    : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (options.Clients.Count == 0 && options.Scopes.Count == 0)
        {
            return;
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        foreach (var seed in options.Scopes)
        {
            var row = await db.Scopes.FirstOrDefaultAsync(s => s.Name == seed.Name, cancellationToken);
            if (row is null)
            {
                row = new OAuthScope { Name = seed.Name };
                db.Scopes.Add(row);
            }

            row.DisplayName = seed.DisplayName;
            row.Description = seed.Description;
            row.Resources = JsonSerializer.Serialize(seed.Resources.ToArray(), ClientJsonContext.Default.StringArray);
        }

        foreach (var seed in options.Clients)
        {
            var row = await db.Applications.FirstOrDefaultAsync(a => a.ClientId == seed.ClientId, cancellationToken);
            if (row is null)
            {
                row = new OAuthApplication
                {
                    ClientId = seed.ClientId,
                    ClientType = seed.Type,
                    ConsentType = seed.ConsentType,
                    DisplayName = seed.DisplayName ?? seed.ClientId,
                    CreationDate = time.GetUtcNow().UtcDateTime,
                };
                db.Applications.Add(row);
            }

            Apply(seed, row);
        }

        var changes = await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Seeded {Clients} client(s) and {Scopes} scope(s) from configuration ({Changes} row(s) changed)",
            options.Clients.Count, options.Scopes.Count, changes);
    }

    private static void Apply(SeedClient seed, OAuthApplication row)
    {
        var permissions = seed.GrantTypes.Select(g => ClientDescriptor.GrantTypePrefix + g)
            .Concat(seed.Scopes.Select(s => ClientDescriptor.ScopePrefix + s))
            .Concat(seed.Resources.Select(r => ClientDescriptor.ResourcePrefix + r))
            .Concat(seed.CanIntrospect ? [ClientDescriptor.IntrospectionPermission] : [])
            .ToArray();
        row.ClientType = seed.Type;
        row.ConsentType = seed.ConsentType;
        row.DisplayName = seed.DisplayName ?? seed.ClientId;
        row.RedirectUris = Json(seed.RedirectUris);
        row.PostLogoutRedirectUris = Json(seed.PostLogoutRedirectUris);
        row.Permissions = Json(permissions);
        row.Settings = JsonSerializer.Serialize(new ClientSettings { Resource = seed.Resource }, ClientJsonContext.Default.ClientSettings);
        var secretHash = string.IsNullOrEmpty(seed.ClientSecret) ? null : ClientSecrets.Hash(seed.ClientSecret);
        if (row.ClientSecretHash != secretHash)
        {
            row.ClientSecretHash = secretHash;
        }
    }

    private static string Json(IEnumerable<string> values) => JsonSerializer.Serialize(values.ToArray(), ClientJsonContext.Default.StringArray);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
