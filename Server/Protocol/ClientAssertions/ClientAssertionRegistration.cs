using IdentityServer.Hosting;

namespace IdentityServer.Protocol.ClientAssertions;

public static class ClientAssertionRegistration
{
    /// <summary>private_key_jwt: options, the clients' key source (through the outbound client), the jti replay set and the validator.</summary>
    public static IServiceCollection AddClientAssertions(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSetting<ClientAssertionOptions>(ClientAssertionOptions.Section);
        if (options.MaxLifetime <= TimeSpan.Zero || options.MaxLifetime > TimeSpan.FromHours(1))
        {
            throw new StartupConfigurationException($"{ClientAssertionOptions.Section}:{nameof(ClientAssertionOptions.MaxLifetime)}",
                $"{options.MaxLifetime:c} is not between zero and one hour.");
        }

        services.AddSingleton(options);
        services.AddSingleton<ClientKeySource>();
        services.AddSingleton<UsedAssertions>();
        services.AddSingleton<ClientAssertionValidator>();
        return services;
    }
}
