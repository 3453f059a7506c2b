using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// Sign-in with Google: OAuth 2.0 authorization code flow with PKCE, then the OpenID Connect userinfo endpoint
/// (Core §5.3) for <c>sub</c>, <c>name</c>, <c>email</c>, <c>email_verified</c>, <c>hd</c> and <c>picture</c>.
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
            IsAuthoritative(email, ProviderUserInfo.IsTrue(user, "email_verified"), ProviderUserInfo.OptionalString(user, "hd")),
            ProviderUserInfo.OptionalString(user, "name"),
            handle: email?.Split('@')[0],
            ProviderUserInfo.OptionalString(user, "picture"));
    }

    /// <summary>
    /// Whether Google's <c>email_verified</c> can be trusted for this address. Google's OpenID Connect guide ("Using
    /// email, email_verified and hd") says Google is authoritative for an address only when it is a Gmail address
    /// (<c>@gmail.com</c>) or when <c>email_verified</c> is true and <c>hd</c>, the Google Workspace domain, is set;
    /// otherwise (a Google account made with someone's existing address) it was verified once, at sign-up, and the
    /// address may have changed hands since. <c>hd</c> must also be the address's own domain: a Workspace account may
    /// carry an address of another domain. Domains compare without ASCII case (RFC 5321 §2.4).
    /// </summary>
    internal static bool IsAuthoritative(string? email, bool emailVerified, string? hostedDomain)
    {
        var at = email?.LastIndexOf('@') ?? -1;
        if (!emailVerified || at < 1)
        {
            return false;
        }

        var domain = email![(at + 1)..];
        return AccountLookup.SameAddress(domain, "gmail.com")
            || (!string.IsNullOrEmpty(hostedDomain) && AccountLookup.SameAddress(domain, hostedDomain));
    }
}
