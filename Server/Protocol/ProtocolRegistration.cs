using IdentityServer.Clients;
using IdentityServer.Hosting;
using IdentityServer.Protocol.ClientAssertions;
using IdentityServer.Protocol.DeviceAuthorization;
using IdentityServer.Protocol.DPoP;
using IdentityServer.Protocol.Grants;
using IdentityServer.Protocol.PushedAuthorization;

namespace IdentityServer.Protocol;

public static class ProtocolRegistration
{
    public static WebApplicationBuilder AddProtocol(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.BindSetting<ServerOptions>(ServerOptions.Section);
        ValidateIssuer(options.Issuer, builder.Environment.IsDevelopment());
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<DiscoveryDocument>();
        builder.Services.AddProtocolCors();
        builder.Services.AddClientAssertions(builder.Configuration);
        builder.Services.AddSingleton<ClientAuthenticator>();
        builder.Services.AddSingleton<ClientAuthenticationFilter>();
        builder.Services.AddSingleton<AudienceResolver>();
        builder.Services.AddSingleton<Authorization.PendingAuthorizationReader>();
        builder.Services.AddSingleton<AuthorizationRequestValidator>();
        builder.Services.AddPushedAuthorization(builder.Configuration);
        builder.Services.AddScoped<AuthorizationCodeIssuer>();
        builder.Services.AddScoped<Authorization.PendingAuthorizationApproval>();
        builder.Services.AddSingleton<TokenResponseFactory>();
        // The grant registry: the token endpoint, discovery and the client rules all read this one list.
        TokenGrantRegistry.AddTokenGrant<AuthorizationCodeGrant>(builder.Services);
        TokenGrantRegistry.AddTokenGrant<RefreshTokenGrant>(builder.Services);
        TokenGrantRegistry.AddTokenGrant<ClientCredentialsGrant>(builder.Services);
        builder.Services.AddDeviceFlow(builder.Configuration);
        TokenGrantRegistry.AddTokenGrant<TokenExchangeGrant>(builder.Services);
        builder.Services.AddSingleton<TokenGrantRegistry>();
        builder.Services.AddSingleton<IGrantTypeCatalog>(services => services.GetRequiredService<TokenGrantRegistry>());
        builder.Services.AddScoped<EndSessionHandler>();
        builder.Services.AddSingleton<ITokenEndpointRateLimits, TokenEndpointRateLimits>();
        builder.Services.AddBackchannelLogout(builder.Configuration);
        builder.Services.AddDynamicRegistration(builder.Configuration);
        builder.Services.AddDPoP(builder.Configuration);
        return builder;
    }

    public static WebApplication MapProtocol(this WebApplication app)
    {
        app.MapDiscoveryEndpoints();
        app.MapAuthorizeEndpoint();
        app.MapPushedAuthorizationEndpoint();
        app.MapTokenEndpoint();
        app.MapUserInfoEndpoint();
        app.MapIntrospectionEndpoint();
        app.MapRevocationEndpoint();
        app.MapEndSessionEndpoint();
        app.MapDeviceAuthorizationEndpoint();
        app.MapDynamicRegistration();
        return app;
    }

    /// <summary>OpenID Connect Discovery 1.0 §3: the issuer is an https URL with no query or fragment (http is tolerated for loopback development).</summary>
    private static void ValidateIssuer(string issuer, bool development)
    {
        const string setting = "Server:Issuer";
        if (string.IsNullOrWhiteSpace(issuer))
        {
            throw new StartupConfigurationException(setting, "the issuer is required (for example https://id.example.com).");
        }

        if (!Uri.TryCreate(issuer, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new StartupConfigurationException(setting, $"'{issuer}' is not an absolute http(s) URL.");
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new StartupConfigurationException(setting, $"'{issuer}' must not have a query or fragment.");
        }

        // RFC 9700 §2.6 / OAuth 2.1: tokens and codes travel only over TLS, except to this machine.
        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback && !development)
        {
            throw new StartupConfigurationException(setting, $"'{issuer}' must use https outside Development (http is accepted only for loopback addresses).");
        }
    }
}
