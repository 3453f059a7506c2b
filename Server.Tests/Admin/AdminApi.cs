using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>An answer of the admin API: status, JSON body (default when empty) and the raw response.</summary>
public sealed record ApiAnswer(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)
{
    public string Error => Body.GetProperty("error").GetString()!;
    public string Description => Body.GetProperty("error_description").GetString()!;
}

/// <summary>
/// Calls the admin API the way an admin tool would: with an access token of the server carrying the admin scope,
/// obtained through the authorization-code flow by a person holding the admin role.
/// </summary>
public sealed class AdminApi(HttpClient http, string? accessToken, ApplicationUser user)
{
    public ApplicationUser User { get; } = user;

    public string? AccessToken { get; } = accessToken;

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ServerFactory, Tuple<AdminApi, DateTimeOffset>> Shared = [];

    /// <summary>
    /// One admin API client per server, for tests that only need "an admin" (validation cases): reused while its
    /// token is far from expiry on the server's clock.
    /// </summary>
    public static async Task<AdminApi> SharedAsync(ServerFactory server)
    {
        if (Shared.TryGetValue(server, out var entry) && server.Time.GetUtcNow() - entry.Item2 < TimeSpan.FromMinutes(5))
        {
            return entry.Item1;
        }

        var api = await ForNewAdminAsync(server);
        Shared.AddOrUpdate(server, Tuple.Create(api, server.Time.GetUtcNow()));
        return api;
    }

    /// <summary>A new admin account, and an admin API client with its token.</summary>
    public static async Task<AdminApi> ForNewAdminAsync(ServerFactory server)
    {
        var user = await CreateAdminAsync(server);
        return new AdminApi(server.CreateClient(), await AccessTokenAsync(server, user), user);
    }

    public static async Task<ApplicationUser> CreateAdminAsync(ServerFactory server)
    {
        var user = await TestData.CreateUserAsync(server);
        await using var scope = server.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<UserAdminService>().GrantAdminAsync(user.Id, AdminActor.CommandLine, CancellationToken.None);
        Assert.Equal(AdminOutcome.Ok, result.Outcome);
        return user;
    }

    /// <summary>An access token for <paramref name="user"/> with <paramref name="scope"/>, through the real code flow.</summary>
    public static async Task<string> AccessTokenAsync(ServerFactory server, ApplicationUser user, string scope = "admin")
    {
        var client = await TestData.CreateClientAsync(server, scopes: ["admin", "profile"]);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, scope: scope, nonce: null);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("access_token").GetString()!;
    }

    public Task<ApiAnswer> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<ApiAnswer> PostAsync(string path, object? body = null) => SendAsync(HttpMethod.Post, path, body);

    public Task<ApiAnswer> PutAsync(string path, object body) => SendAsync(HttpMethod.Put, path, body);

    public Task<ApiAnswer> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    public async Task<ApiAnswer> SendAsync(HttpMethod method, string path, object? body = null, string? rawJson = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (AccessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        }

        if (rawJson is not null)
        {
            request.Content = new StringContent(rawJson, System.Text.Encoding.UTF8, "application/json");
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType());
        }

        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new ApiAnswer(response.StatusCode, json, response);
    }

    /// <summary>A valid confidential web client definition with a unique client_id (the API's JSON shape).</summary>
    public static Dictionary<string, object?> WebClient(string? clientId = null) => new()
    {
        ["client_id"] = clientId ?? "web-" + Guid.NewGuid().ToString("N")[..10],
        ["client_name"] = "Web app",
        ["client_type"] = "confidential",
        ["consent_type"] = "explicit",
        ["redirect_uris"] = Strings("https://app.example.com/callback"),
        ["grant_types"] = Strings("authorization_code", "refresh_token"),
        ["scopes"] = Strings("openid", "profile", "offline_access"),
    };
}
