using IdentityServer.Data;

namespace IdentityServer.Clients;

public static class ClientRegistration
{
    public static IServiceCollection AddClients(this IServiceCollection services, IConfiguration configuration)
    {
        // Read and checked at start, against the grant types the token endpoint serves: a declared client that breaks a
        // rule stops startup with one line naming the setting.
        services.AddSingleton(provider => ClientSeedOptions.Read(configuration, provider.GetRequiredService<IGrantTypeCatalog>()));
        services.AddSingleton<ClientSeeder>();
        services.AddDatabaseSeed<ClientSeeder>(); // run at start, after the migrations
        services.AddSingleton<ClientStore>();
        services.AddSingleton<ScopeCatalog>();
        services.AddScoped<ClientRegistry>();
        return services;
    }
}
