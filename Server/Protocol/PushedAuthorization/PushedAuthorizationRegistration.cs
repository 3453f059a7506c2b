using IdentityServer.Hosting;

namespace IdentityServer.Protocol.PushedAuthorization;

public static class PushedAuthorizationRegistration
{
    public static IServiceCollection AddPushedAuthorization(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSetting<PushedAuthorizationOptions>(PushedAuthorizationOptions.Section);
        // RFC 9126 §2.2 suggests a short life (the request_uri only has to reach the browser and come back).
        if (options.Lifetime < TimeSpan.FromSeconds(5) || options.Lifetime > TimeSpan.FromMinutes(10))
        {
            throw new StartupConfigurationException($"{PushedAuthorizationOptions.Section}:{nameof(PushedAuthorizationOptions.Lifetime)}",
                $"{options.Lifetime:c} is not between 5 seconds and 10 minutes.");
        }

        if (options.InteractionLifetime < options.Lifetime || options.InteractionLifetime > TimeSpan.FromDays(1))
        {
            throw new StartupConfigurationException($"{PushedAuthorizationOptions.Section}:{nameof(PushedAuthorizationOptions.InteractionLifetime)}",
                $"{options.InteractionLifetime:c} is not between the Lifetime and one day.");
        }

        services.AddSingleton(options);
        services.AddScoped<PushedRequests>();
        services.AddScoped<PushedRequestResolver>();
        return services;
    }
}
