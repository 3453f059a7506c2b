using IdentityServer.Hosting;
namespace IdentityServer.Tokens;

public static class TokenRegistration
{
    /// <summary>Loads the signing keys now, so a bad key stops startup before anything listens.</summary>
    public static WebApplicationBuilder AddTokens(this WebApplicationBuilder builder)
    {
        var signing = builder.Configuration.BindSetting<SigningOptions>(SigningOptions.Section);
        var dataDirectory = builder.Configuration[$"{Data.DatabaseOptions.Section}:{nameof(Data.DatabaseOptions.DataDirectory)}"] ?? "data";
        builder.Services.AddSingleton(SigningKeyRing.Load(signing, builder.Environment, dataDirectory));
        builder.Services.AddSingleton(builder.Configuration.BindSetting<TokenOptions>(TokenOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<JwtWriter>();
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddSingleton<AccessTokenValidator>();
        builder.Services.AddScoped<TokenFamilies>();
        builder.Services.AddScoped<AccessTokenStatus>();
        builder.Services.AddScoped<ProofReplayCache>();
        builder.Services.AddScoped<DeviceCodes>();
        builder.Services.AddSingleton(builder.Configuration.BindSetting<RevocationCacheOptions>(RevocationCacheOptions.Section));
        builder.Services.AddSingleton<RevocationCache>();
        builder.Services.AddScoped<RevocationNotices>();
        builder.Services.AddHostedService<RevocationListener>();
        return builder;
    }
}
