using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// Sign-in with GitHub (OAuth app or GitHub App user authorization): the web application flow with PKCE, then
/// <c>GET /user</c> for the id, login, name and avatar, and <c>GET /user/emails</c> for the primary email and whether
/// GitHub verified it. <c>/user</c>'s <c>email</c> is only the public profile email and is null when the person keeps
/// it private, so it is used (as unverified) only when <c>/user/emails</c> is refused to the token (403 or 404). The REST API wants
/// <c>Accept: application/vnd.github+json</c> and refuses requests without a User-Agent.
/// </summary>
public static class GitHubProvider
{
    public const string Scheme = "GitHub";
    private const string ApiVersion = "2022-11-28";

    public static AuthenticationBuilder AddGitHubSignIn(this AuthenticationBuilder authentication, IConfiguration configuration, bool secureCookies)
    {
        var (settings, section) = ProviderSettings.Read(configuration, Scheme);
        if (settings is null)
        {
            return authentication;
        }

        var emailsEndpoint = section["EmailsEndpoint"] ?? "https://api.github.com/user/emails";
        return authentication.AddOAuth(Scheme, "GitHub", options =>
        {
            // The handler already asks the token endpoint for JSON (Accept: application/json), which GitHub needs.
            settings.ApplyTo(options, Scheme,
                authorizationEndpoint: "https://github.com/login/oauth/authorize",
                tokenEndpoint: "https://github.com/login/oauth/access_token",
                userInformationEndpoint: "https://api.github.com/user",
                secureCookies, context => ReadProfileAsync(context, emailsEndpoint));
            options.Scope.Add("read:user");
            options.Scope.Add("user:email");
        });
    }

    private static void ApiHeaders(HttpRequestHeaders headers)
    {
        headers.Accept.Clear();
        headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        headers.UserAgent.Clear();
        headers.UserAgent.Add(new ProductInfoHeaderValue("IdentityServer-Federation", "1.0"));
        headers.Add("X-GitHub-Api-Version", ApiVersion);
    }

    private static async Task<ExternalProfile> ReadProfileAsync(OAuthCreatingTicketContext context, string emailsEndpoint)
    {
        using var json = await ProviderUserInfo.GetAsync(context, context.Options.UserInformationEndpoint, ApiHeaders);
        var user = json.RootElement;
        var id = ProviderUserInfo.RequiredId(user, "id");
        var login = ProviderUserInfo.OptionalString(user, "login");

        var (email, verified) = (ProviderUserInfo.OptionalString(user, "email"), false);
        // GitHub's REST reference lists 401, 403 and 404 for GET /user/emails. 403 and 404 mean this token may not read
        // the emails (a GitHub App without the email permission, an OAuth app without user:email): then /user's public
        // email, unverified, is all there is. Anything else (401, 429, a 5xx) is GitHub failing, which ends on the error
        // page: taking it as "no verified email" would create a second account for someone who has one.
        using var emails = await ProviderUserInfo.TryGetAsync(context, emailsEndpoint, ApiHeaders, HttpStatusCode.Forbidden, HttpStatusCode.NotFound);
        if (emails is not null)
        {
            (email, verified) = PrimaryEmail(emails.RootElement);
        }

        return ExternalProfile.Create(id, email, verified, ProviderUserInfo.OptionalString(user, "name") ?? login, login,
            ProviderUserInfo.OptionalString(user, "avatar_url"));
    }

    /// <summary>The entry marked primary, with its verified flag: <c>[{"email", "primary", "verified", "visibility"}]</c>.</summary>
    private static (string? Email, bool Verified) PrimaryEmail(JsonElement emails)
    {
        if (emails.ValueKind != JsonValueKind.Array)
        {
            throw new ExternalProviderException(ExternalFailureReason.Malformed, "GitHub's /user/emails is not an array.");
        }

        foreach (var entry in emails.EnumerateArray())
        {
            if (ProviderUserInfo.IsTrue(entry, "primary"))
            {
                return (ProviderUserInfo.OptionalString(entry, "email"), ProviderUserInfo.IsTrue(entry, "verified"));
            }
        }

        return (null, false);
    }
}
