using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// Sign-in with Google: OAuth 2.0 authorization code flow with PKCE, then the OpenID Connect userinfo endpoint
/// (Core §5.3) for <c>sub</c>, <c>name</c>, <c>email</c>, <c>email_verified</c> and <c>picture</c>.
/// Endpoints from https://accounts.google.com/.well-known/openid-configuration.
/// </summary>
public static class GoogleProvider
{
    public const string Scheme = "Google";

    public static AuthenticationBuilder AddGoogle(this AuthenticationBuilder authentication, IConfiguration configuration, bool secureCookies)
    {
        var (settings, _) = ProviderSettings.Read(configuration, Scheme);
        if (settings is null)
        {
            return authentication;
        }

        return authentication.AddOAuth(Scheme, "Google", options =>
        {
            settings.ApplyTo(options, Scheme,
                authorizationEndpoint: "https://accounts.google.com/o/oauth2/v2/auth",
                tokenEndpoint: "https://oauth2.googleapis.com/token",
                userInformationEndpoint: "https://openidconnect.googleapis.com/v1/userinfo",
                secureCookies, ReadProfileAsync);
            options.Scope.Add("openid");
            options.Scope.Add("email");
            options.Scope.Add("profile");
        });
    }

    private static async Task<ExternalProfile> ReadProfileAsync(OAuthCreatingTicketContext context)
    {
        using var json = await ProviderUserInfo.GetAsync(context, context.Options.UserInformationEndpoint);
        var user = json.RootElement;
        var email = ProviderUserInfo.OptionalString(user, "email");
        return ExternalProfile.Create(
            ProviderUserInfo.RequiredId(user, "sub"),
            email,
            ProviderUserInfo.IsTrue(user, "email_verified"),
            ProviderUserInfo.OptionalString(user, "name"),
            handle: email?.Split('@')[0],
            ProviderUserInfo.OptionalString(user, "picture"));
    }
}
