using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Accounts.Federation;

/// <summary>Registers the configured upstream providers and the services of the federated sign-in flow.</summary>
public static class FederationRegistration
{
    public static AuthenticationBuilder AddFederation(this AuthenticationBuilder authentication, IConfiguration configuration)
    {
        // Same rule as the session cookie: Secure whenever the issuer is https.
        var secureCookies = configuration["Server:Issuer"]?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) == true;
        authentication
            .AddGoogleSignIn(configuration, secureCookies)
            .AddGitHubSignIn(configuration, secureCookies)
            .AddDiscordSignIn(configuration, secureCookies)
            .AddMicrosoftSignIn(configuration, secureCookies);

        // The external cookie carries the provider's answer for a few minutes, from the handler to the callback page.
        authentication.Services.ConfigureExternalCookie(options =>
        {
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = secureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        });
        authentication.Services.AddScoped<ExternalSignIn>();
        return authentication;
    }
}
