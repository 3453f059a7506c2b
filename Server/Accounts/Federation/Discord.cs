using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// Sign-in with Discord: authorization code with PKCE (Discord's metadata lists S256), scopes <c>identify email</c>,
/// then <c>GET /users/@me</c>, both on the versioned API (v10). Discord's <c>verified</c> flag says whether the email
/// is verified. The avatar is a hash; its URL is built on Discord's CDN (<c>a_</c>-prefixed hashes are animated GIFs).
/// </summary>
public static class DiscordProvider
{
    public const string Scheme = "Discord";
    private const string Cdn = "https://cdn.discordapp.com";
    private const string Api = "https://discord.com/api/v10";

    public static AuthenticationBuilder AddDiscordSignIn(this AuthenticationBuilder authentication, IConfiguration configuration, bool secureCookies)
    {
        var (settings, _) = ProviderSettings.Read(configuration, Scheme);
        if (settings is null)
        {
            return authentication;
        }

        return authentication.AddOAuth(Scheme, "Discord", options =>
        {
            settings.ApplyTo(options, Scheme,
                authorizationEndpoint: "https://discord.com/oauth2/authorize",
                // Discord's API reference: "https://discord.com/api/v{version_number}"; a path without the version goes to
                // the default version, which is a deprecated one (v6). v10 is the current one.
                tokenEndpoint: $"{Api}/oauth2/token",
                userInformationEndpoint: $"{Api}/users/@me",
                secureCookies, ReadProfileAsync);
            options.Scope.Add("identify");
            options.Scope.Add("email");
        });
    }

    private static async Task<ExternalProfile> ReadProfileAsync(OAuthCreatingTicketContext context)
    {
        using var json = await ProviderUserInfo.GetAsync(context, context.Options.UserInformationEndpoint);
        var user = json.RootElement;
        var id = ProviderUserInfo.RequiredId(user, "id");
        var username = ProviderUserInfo.OptionalString(user, "username");
        return ExternalProfile.Create(
            id,
            ProviderUserInfo.OptionalString(user, "email"),
            ProviderUserInfo.IsTrue(user, "verified"),
            ProviderUserInfo.OptionalString(user, "global_name") ?? username,
            username,
            AvatarUrl(id, ProviderUserInfo.OptionalString(user, "avatar")));
    }

    /// <summary>Discord's image formatting: <c>avatars/{user_id}/{user_avatar}.png</c>, <c>.gif</c> when animated.</summary>
    private static string? AvatarUrl(string id, string? hash)
    {
        if (string.IsNullOrEmpty(hash))
        {
            return null;
        }

        var animated = hash.StartsWith("a_", StringComparison.Ordinal);
        var bare = animated ? hash[2..] : hash;
        // Only something shaped like a hash goes into the URL.
        if (bare.Length == 0 || !bare.All(char.IsAsciiLetterOrDigit))
        {
            return null;
        }

        return $"{Cdn}/avatars/{Uri.EscapeDataString(id)}/{hash}.{(animated ? "gif" : "png")}";
    }
}
