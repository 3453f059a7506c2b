using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// Local stand-ins for Google, GitHub, Discord and Microsoft on one loopback Kestrel host, under /google, /github,
/// /discord and /microsoft. Each checks what the real provider checks (client credentials, redirect URI, PKCE S256,
/// scopes; GitHub's User-Agent and Accept headers) and answers with the provider's documented JSON shapes. The
/// authorize endpoint plays the person: with <c>login=&lt;account id&gt;</c> it approves at once (tests), with
/// <c>deny=1</c> it cancels, otherwise it shows a small page with a button per account (the browser test).
/// </summary>
public sealed class ProviderStandIn : IDisposable
{
    public const string ClientSecret = "stand-in-client-secret";

    public static readonly string[] Providers = ["google", "github", "discord", "microsoft"];

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, StandInAccount> _accounts = new();
    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new();
    private readonly ConcurrentDictionary<string, StandInAccount> _accessTokens = new();

    private sealed record IssuedCode(StandInAccount Account, string ClientId, string RedirectUri, string Challenge);

    private ProviderStandIn()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        foreach (var provider in Providers)
        {
            var authorize = provider switch
            {
                "google" => "/google/authorize",
                "github" => "/github/login/oauth/authorize",
                "discord" => "/discord/oauth2/authorize",
                _ => "/microsoft/{tenant}/oauth2/v2.0/authorize",
            };
            var token = provider switch
            {
                "google" => "/google/token",
                "github" => "/github/login/oauth/access_token",
                "discord" => "/discord/api/v10/oauth2/token",
                _ => "/microsoft/{tenant}/oauth2/v2.0/token",
            };
            var name = provider;
            _app.MapMethods(authorize, ["GET", "POST"], context => AuthorizeAsync(context, name));
            _app.MapPost(token, context => TokenAsync(context, name));
        }

        _app.MapGet("/google/userinfo", context => UserAsync(context, "google", GoogleUserInfo));
        _app.MapGet("/github/api/user", context => UserAsync(context, "github", GitHubUser));
        _app.MapGet("/github/api/user/emails", context => UserAsync(context, "github", GitHubEmails));
        _app.MapGet("/discord/api/v10/users/@me", context => UserAsync(context, "discord", DiscordUser));
        _app.MapGet("/microsoft/graph/v1.0/me", context => UserAsync(context, "microsoft", GraphMe));
        _app.StartAsync().GetAwaiter().GetResult();
        BaseAddress = new Uri(_app.Urls.Single());
    }

    public static ProviderStandIn Start() => new();

    /// <summary>http://127.0.0.1:port</summary>
    public Uri BaseAddress { get; }

    /// <summary>The tenant segment of the last Microsoft token request.</summary>
    public string? LastMicrosoftTenant { get; private set; }

    public static string ClientIdFor(string provider) => provider + "-client-id";

    /// <summary>Makes an account known to its provider.</summary>
    public StandInAccount Add(StandInAccount account)
    {
        _accounts[account.Id] = account;
        return account;
    }

    /// <summary>The server's settings pointing every provider at this stand-in.</summary>
    public Dictionary<string, string?> ServerSettings()
    {
        var root = BaseAddress.ToString().TrimEnd('/');
        var settings = new Dictionary<string, string?>
        {
            ["Authentication:Google:AuthorizationEndpoint"] = root + "/google/authorize",
            ["Authentication:Google:TokenEndpoint"] = root + "/google/token",
            ["Authentication:Google:UserInformationEndpoint"] = root + "/google/userinfo",
            ["Authentication:GitHub:AuthorizationEndpoint"] = root + "/github/login/oauth/authorize",
            ["Authentication:GitHub:TokenEndpoint"] = root + "/github/login/oauth/access_token",
            ["Authentication:GitHub:UserInformationEndpoint"] = root + "/github/api/user",
            ["Authentication:GitHub:EmailsEndpoint"] = root + "/github/api/user/emails",
            ["Authentication:Discord:AuthorizationEndpoint"] = root + "/discord/oauth2/authorize",
            ["Authentication:Discord:TokenEndpoint"] = root + "/discord/api/v10/oauth2/token",
            ["Authentication:Discord:UserInformationEndpoint"] = root + "/discord/api/v10/users/@me",
            // Microsoft: only the instance is moved; the tenant segment comes from the server's own default.
            ["Authentication:Microsoft:Instance"] = root + "/microsoft",
            ["Authentication:Microsoft:UserInformationEndpoint"] = root + "/microsoft/graph/v1.0/me",
        };
        foreach (var (provider, scheme) in new[] { ("google", "Google"), ("github", "GitHub"), ("discord", "Discord"), ("microsoft", "Microsoft") })
        {
            settings[$"Authentication:{scheme}:ClientId"] = ClientIdFor(provider);
            settings[$"Authentication:{scheme}:ClientSecret"] = ClientSecret;
        }

        return settings;
    }

    private static string[] RequiredScopes(string provider) => provider switch
    {
        "google" => ["openid", "email", "profile"],
        "github" => ["read:user", "user:email"],
        "discord" => ["identify", "email"],
        _ => ["https://graph.microsoft.com/User.Read"],
    };

    private async Task AuthorizeAsync(HttpContext context, string provider)
    {
        var query = context.Request.Query;
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
        string Param(string name) => form is not null && !StringValues.IsNullOrEmpty(form[name]) ? form[name].ToString() : query[name].ToString();

        var redirectUri = query["redirect_uri"].ToString();
        var state = query["state"].ToString();
        var scopes = query["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var problem =
            query["response_type"] != "code" ? "response_type must be code"
            : query["client_id"] != ClientIdFor(provider) ? "unknown client_id"
            : !redirectUri.EndsWith("/signin-" + provider, StringComparison.Ordinal) ? "redirect_uri is not registered"
            : state.Length == 0 ? "state is missing"
            : query["code_challenge_method"] != "S256" || query["code_challenge"].ToString().Length != 43 ? "PKCE S256 is missing"
            : RequiredScopes(provider).Except(scopes).Any() ? "missing scopes: " + string.Join(' ', RequiredScopes(provider).Except(scopes))
            : null;
        if (problem is not null)
        {
            // A real provider shows an error page here and does not redirect.
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(problem);
            return;
        }

        if (Param("deny") == "1" || Param("error").Length > 0)
        {
            var error = Param("error") is { Length: > 0 } e ? e : "access_denied";
            context.Response.Redirect(QueryHelpers.AddQueryString(redirectUri, new Dictionary<string, string?> { ["error"] = error, ["state"] = state }));
            return;
        }

        if (Param("login") is not { Length: > 0 } login)
        {
            await ShowAccountChooserAsync(context, provider);
            return;
        }

        if (!_accounts.TryGetValue(login, out var account) || account.Provider != provider)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("no such account");
            return;
        }

        var code = NewValue();
        _codes[code] = new IssuedCode(account, query["client_id"]!, redirectUri, query["code_challenge"]!);
        context.Response.Redirect(QueryHelpers.AddQueryString(redirectUri, new Dictionary<string, string?> { ["code"] = code, ["state"] = state }));
    }

    /// <summary>The provider's consent screen, for a person in a browser: one button per account, and Cancel.</summary>
    private async Task ShowAccountChooserAsync(HttpContext context, string provider)
    {
        var html = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"<!DOCTYPE html><html lang=\"en\"><head><title>{provider} stand-in</title></head><body><h1>Sign in to {provider}</h1>"));
        html.Append("<form method=\"post\">");
        foreach (var account in _accounts.Values.Where(a => a.Provider == provider))
        {
            html.Append(CultureInfo.InvariantCulture, $"<button type=\"submit\" name=\"login\" value=\"{WebUtility.HtmlEncode(account.Id)}\">Continue as {WebUtility.HtmlEncode(account.Name)}</button>");
        }

        html.Append("<button type=\"submit\" name=\"deny\" value=\"1\">Cancel</button></form></body></html>");
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(html.ToString());
    }

    private async Task TokenAsync(HttpContext context, string provider)
    {
        if (provider == "microsoft")
        {
            LastMicrosoftTenant = context.Request.RouteValues["tenant"]?.ToString();
        }

        var form = await context.Request.ReadFormAsync();
        if (!_codes.TryRemove(form["code"].ToString(), out var issued) || issued.Account.Provider != provider)
        {
            await TokenErrorAsync(context, provider, "invalid_grant");
            return;
        }

        var verifier = form["code_verifier"].ToString();
        var valid = form["grant_type"] == "authorization_code"
            && form["client_id"] == issued.ClientId
            && form["client_secret"] == ClientSecret
            && form["redirect_uri"] == issued.RedirectUri
            && Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) == issued.Challenge; // RFC 7636 §4.6
        if (!valid || issued.Account.Failure == StandInFailure.TokenError)
        {
            await TokenErrorAsync(context, provider, "invalid_grant");
            return;
        }

        if (issued.Account.Failure == StandInFailure.TokenConnectionDrop)
        {
            context.Abort();
            return;
        }

        var accessToken = provider switch
        {
            "github" => "gho_" + NewValue(),
            "google" => "ya29." + NewValue(),
            _ => NewValue(),
        };
        _accessTokens[accessToken] = issued.Account;
        object body = provider switch
        {
            "google" => new { access_token = accessToken, expires_in = 3599, scope = "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile", token_type = "Bearer" },
            "github" => new { access_token = accessToken, scope = "read:user,user:email", token_type = "bearer" },
            "discord" => new { access_token = accessToken, token_type = "Bearer", expires_in = 604800, refresh_token = NewValue(), scope = "identify email" },
            _ => new { token_type = "Bearer", scope = "https://graph.microsoft.com/User.Read", expires_in = 3599, ext_expires_in = 3599, access_token = accessToken },
        };
        await context.Response.WriteAsJsonAsync(body);
    }

    /// <summary>GitHub answers token errors with 200 and an error member; the others with 400 (RFC 6749 §5.2).</summary>
    private static async Task TokenErrorAsync(HttpContext context, string provider, string error)
    {
        if (provider == "github")
        {
            await context.Response.WriteAsJsonAsync(new { error = "bad_verification_code", error_description = "The code passed is incorrect or expired." });
            return;
        }

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsJsonAsync(new { error, error_description = "The code is invalid." });
    }

    private async Task UserAsync(HttpContext context, string provider, Func<StandInAccount, object> shape)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal)
            || !_accessTokens.TryGetValue(authorization["Bearer ".Length..], out var account) || account.Provider != provider)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        if (provider == "github")
        {
            // GitHub refuses API requests without a User-Agent; its documented media type is application/vnd.github+json.
            if (string.IsNullOrEmpty(context.Request.Headers.UserAgent))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsJsonAsync(new { message = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header." });
                return;
            }

            if (!context.Request.Headers.Accept.ToString().Contains("application/vnd.github+json", StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
                return;
            }
        }

        if (provider == "github" && context.Request.Path.Value!.EndsWith("/emails", StringComparison.Ordinal) && account.EmailsStatus is { } status)
        {
            // GitHub's error body: {"message", "documentation_url", "status"}.
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { message = status == 403 ? "Resource not accessible by integration" : "Error", documentation_url = "https://docs.github.com/rest/users/emails", status = status.ToString(CultureInfo.InvariantCulture) });
            return;
        }

        switch (account.Failure)
        {
            case StandInFailure.UserInfoServerError:
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await context.Response.WriteAsync("<html><body>Internal error</body></html>");
                return;
            case StandInFailure.UserInfoMalformed:
                await context.Response.WriteAsJsonAsync(new { message = "unexpected", user = (string?)null });
                return;
            default:
                await context.Response.WriteAsync(JsonSerializer.Serialize(shape(account)), Encoding.UTF8);
                return;
        }
    }

    /// <summary>Google's OpenID Connect userinfo (OIDC Core §5.3.2).</summary>
    private static object GoogleUserInfo(StandInAccount a) => new Dictionary<string, object?>
    {
        ["sub"] = a.Id,
        ["name"] = a.Name,
        ["given_name"] = a.Name?.Split(' ')[0],
        ["family_name"] = a.Name?.Split(' ').Last(),
        ["picture"] = a.Avatar,
        ["email"] = a.Email,
        ["email_verified"] = a.EmailVerified,
        ["hd"] = a.HostedDomain,
    }.Where(p => p.Key != "hd" || p.Value is not null).ToDictionary(); // hd only for Workspace accounts

    /// <summary>GitHub's GET /user (the REST API's private user shape, abridged).</summary>
    private static object GitHubUser(StandInAccount a) => new Dictionary<string, object?>
    {
        ["login"] = a.Login,
        ["id"] = long.Parse(a.Id, CultureInfo.InvariantCulture),
        ["node_id"] = "U_kgDO" + a.Id,
        ["avatar_url"] = a.Avatar,
        ["gravatar_id"] = "",
        ["url"] = "https://api.github.com/users/" + a.Login,
        ["html_url"] = "https://github.com/" + a.Login,
        ["type"] = "User",
        ["site_admin"] = false,
        ["name"] = a.Name,
        ["company"] = null,
        ["blog"] = "",
        ["location"] = null,
        ["email"] = a.PublicEmail,
        ["hireable"] = null,
        ["bio"] = null,
        ["public_repos"] = 3,
        ["followers"] = 1,
        ["following"] = 0,
        ["created_at"] = "2020-01-01T00:00:00Z",
        ["updated_at"] = "2024-01-01T00:00:00Z",
    };

    /// <summary>GitHub's GET /user/emails: the noreply address and the real one, which is primary.</summary>
    private static object GitHubEmails(StandInAccount a) => new object[]
    {
        new { email = $"{a.Id}+{a.Login}@users.noreply.github.com", primary = false, verified = true, visibility = (string?)null },
        new { email = a.Email, primary = true, verified = a.EmailVerified, visibility = "private" },
    };

    /// <summary>Discord's GET /users/@me with the email scope.</summary>
    private static object DiscordUser(StandInAccount a) => new Dictionary<string, object?>
    {
        ["id"] = a.Id,
        ["username"] = a.Login,
        ["discriminator"] = "0",
        ["global_name"] = a.Name,
        ["avatar"] = a.Avatar,
        ["mfa_enabled"] = false,
        ["banner"] = null,
        ["accent_color"] = null,
        ["locale"] = "en-US",
        ["verified"] = a.EmailVerified,
        ["email"] = a.Email,
        ["flags"] = 0,
        ["premium_type"] = 0,
        ["public_flags"] = 0,
    };

    /// <summary>Microsoft Graph GET /me (v1.0, default properties).</summary>
    private static object GraphMe(StandInAccount a) => new Dictionary<string, object?>
    {
        ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        ["businessPhones"] = Array.Empty<string>(),
        ["displayName"] = a.Name,
        ["givenName"] = a.Name?.Split(' ')[0],
        ["jobTitle"] = null,
        ["mail"] = a.Mail,
        ["mobilePhone"] = null,
        ["officeLocation"] = null,
        ["preferredLanguage"] = null,
        ["surname"] = a.Name?.Split(' ').Last(),
        ["userPrincipalName"] = a.UserPrincipalName,
        ["id"] = a.Id,
    };

    private static string NewValue() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24));

    public void Dispose()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }
}
