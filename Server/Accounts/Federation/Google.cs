using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Google;
using Microsoft.AspNetCore.Authentication.OAuth;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// Sign-in with Google through ASP.NET Core's Google handler (<c>Microsoft.AspNetCore.Authentication.Google</c>):
/// OAuth 2.0 authorization code flow with PKCE, then the OpenID Connect userinfo endpoint (Core §5.3) for <c>sub</c>,
/// <c>name</c>, <c>email</c>, <c>email_verified</c>, <c>hd</c> and <c>picture</c>, which the handler fetches and hands to
/// <c>OnCreatingTicket</c> as <see cref="OAuthCreatingTicketContext.User"/>. Endpoints from
/// https://accounts.google.com/.well-known/openid-configuration.
/// </summary>
public static class GoogleProvider
{
    public const string Scheme = GoogleDefaults.AuthenticationScheme;

    /// <summary>
    /// The discovery document's <c>userinfo_endpoint</c>. The handler's own default (<see cref="GoogleDefaults.UserInformationEndpoint"/>,
    /// <c>https://www.googleapis.com/oauth2/v3/userinfo</c> in 10.0) is Google's older OAuth2 API; the OpenID Connect one
    /// is the endpoint whose claims (Core §5.1, <c>email_verified</c> included) Google documents.
    /// </summary>
    public const string UserInformationEndpoint = "https://openidconnect.googleapis.com/v1/userinfo";

    /// <summary>Named apart from the package's <c>AddGoogle</c>, which this calls.</summary>
    public static AuthenticationBuilder AddGoogleSignIn(this AuthenticationBuilder authentication, IConfiguration configuration, bool secureCookies)
    {
        var (settings, _) = ProviderSettings.Read(configuration, Scheme);
        if (settings is null)
        {
            return authentication;
        }

        return authentication.AddGoogle(Scheme, "Google", options =>
        {
            settings.ApplyTo(options, Scheme,
                authorizationEndpoint: GoogleDefaults.AuthorizationEndpoint,
                tokenEndpoint: GoogleDefaults.TokenEndpoint,
                userInformationEndpoint: UserInformationEndpoint,
                secureCookies, ReadProfile);
            // GoogleOptions starts with these three; stated here so that a change of the package's defaults changes nothing.
            options.Scope.Clear();
            options.Scope.Add("openid");
            options.Scope.Add("email");
            options.Scope.Add("profile");
        });
    }

    /// <summary>The userinfo JSON the handler already fetched (it threw on an error status, which <see cref="ExternalFailure"/> reports).</summary>
    private static Task<ExternalProfile> ReadProfile(OAuthCreatingTicketContext context)
    {
        var user = context.User;
        var email = ProviderUserInfo.OptionalString(user, "email");
        // OpenID Connect Core §5.7: only sub identifies the person at Google; the email is a hint, trusted below.
        return Task.FromResult(ExternalProfile.Create(
            ProviderUserInfo.RequiredId(user, "sub"),
            email,
            IsAuthoritative(email, ProviderUserInfo.IsTrue(user, "email_verified"), ProviderUserInfo.OptionalString(user, "hd")),
            ProviderUserInfo.OptionalString(user, "name"),
            handle: email?.Split('@')[0],
            ProviderUserInfo.OptionalString(user, "picture")));
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
