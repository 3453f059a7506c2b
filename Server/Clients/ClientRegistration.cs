namespace IdentityServer.Clients;

public static class ClientRegistration
{
    public static IServiceCollection AddClients(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.GetSection(ClientSeedOptions.Section).Get<ClientSeedOptions>() ?? new ClientSeedOptions());
        services.AddHostedService<ClientSeeder>();
        services.AddSingleton<ClientStore>();
        services.AddSingleton<ScopeCatalog>();
        return services;
    }
}
