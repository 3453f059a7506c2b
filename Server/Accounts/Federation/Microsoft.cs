using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// Sign-in with Microsoft (personal accounts and work or school accounts): the Microsoft identity platform v2.0
/// endpoints of a configurable tenant (<c>common</c> by default; <c>organizations</c>, <c>consumers</c> or a tenant id
/// narrow it), authorization code with PKCE, then Microsoft Graph <c>GET /me</c>.
/// Email: Graph's <c>mail</c>, or for personal accounts (whose <c>mail</c> is often null) the <c>userPrincipalName</c>,
/// which is their sign-in address. Graph does not say whether a work account's address was ever verified (a tenant
/// administrator can set any address), so Microsoft emails are always taken as unverified: they are stored, released
/// with <c>email_verified: false</c>, and never used to link accounts automatically.
/// </summary>
public static class MicrosoftProvider
{
    public const string Scheme = "Microsoft";

    public static AuthenticationBuilder AddMicrosoftSignIn(this AuthenticationBuilder authentication, IConfiguration configuration, bool secureCookies)
    {
        var (settings, section) = ProviderSettings.Read(configuration, Scheme);
        if (settings is null)
        {
            return authentication;
        }

        var instance = (section["Instance"] ?? "https://login.microsoftonline.com").TrimEnd('/');
        var tenant = Uri.EscapeDataString(section["Tenant"] is { Length: > 0 } configured ? configured : "common");
        return authentication.AddOAuth(Scheme, "Microsoft", options =>
        {
            settings.ApplyTo(options, Scheme,
                authorizationEndpoint: $"{instance}/{tenant}/oauth2/v2.0/authorize",
                tokenEndpoint: $"{instance}/{tenant}/oauth2/v2.0/token",
                userInformationEndpoint: "https://graph.microsoft.com/v1.0/me",
                secureCookies, ReadProfileAsync);
            options.Scope.Add("https://graph.microsoft.com/User.Read");
        });
    }

    private static async Task<ExternalProfile> ReadProfileAsync(OAuthCreatingTicketContext context)
    {
        using var json = await ProviderUserInfo.GetAsync(context, context.Options.UserInformationEndpoint);
        var user = json.RootElement;
        var principalName = ProviderUserInfo.OptionalString(user, "userPrincipalName");
        // A guest's principal name (alice_example.com#EXT#@tenant.onmicrosoft.com) is not an address.
        var email = ProviderUserInfo.OptionalString(user, "mail")
            ?? (principalName is not null && !principalName.Contains("#EXT#", StringComparison.OrdinalIgnoreCase) ? principalName : null);
        return ExternalProfile.Create(
            ProviderUserInfo.RequiredId(user, "id"),
            email,
            emailVerified: false,
            ProviderUserInfo.OptionalString(user, "displayName"),
            handle: email?.Split('@')[0],
            picture: null);
    }
}
