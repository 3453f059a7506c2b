using IdentityServer.Data;

namespace IdentityServer.Clients;

public static class ClientRegistration
{
    public static IServiceCollection AddClients(this IServiceCollection services, IConfiguration configuration)
    {
        // Read and checked now: a declared client that breaks a rule stops startup with one line naming the setting.
        services.AddSingleton(ClientSeedOptions.Read(configuration));
        services.AddSingleton<ClientSeeder>();
        services.AddDatabaseSeed<ClientSeeder>(); // run at start, after the migrations
        services.AddSingleton<ClientStore>();
        services.AddSingleton<ScopeCatalog>();
        services.AddScoped<ClientRegistry>();
        return services;
    }
}
