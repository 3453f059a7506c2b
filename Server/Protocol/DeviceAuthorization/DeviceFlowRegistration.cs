using IdentityServer.Protocol.Grants;

namespace IdentityServer.Protocol.DeviceAuthorization;

public static class DeviceFlowRegistration
{
    /// <summary>The device authorization grant (RFC 8628): its settings, the guessing guard, the page's door, the token endpoint grant.</summary>
    public static IServiceCollection AddDeviceFlow(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(DeviceFlowOptions.Read(configuration));
        services.AddSingleton<UserCodeGuard>();
        services.AddScoped<DeviceVerification>();
        TokenGrantRegistry.AddTokenGrant<DeviceCodeGrant>(services);
        return services;
    }
}
