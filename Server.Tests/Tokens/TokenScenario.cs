using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Tokens;

/// <summary>What one sign-in (authorization code + PKCE, then the code exchange) handed the app.</summary>
public sealed record IssuedTokens(string AccessToken, string? RefreshToken, string? IdToken, string? Scope)
{
    public string Jti => new JsonWebToken(AccessToken).GetPayloadValue<string>("jti");
}

/// <summary>An answer of a protocol endpoint: status, raw body (for exact comparisons) and the body parsed.</summary>
public sealed record EndpointAnswer(HttpStatusCode Status, string Raw, JsonElement Body, HttpResponseMessage Response)
{
    public string? Error => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("error", out var e) ? e.GetString() : null;

    public bool Active => Body.GetProperty("active").GetBoolean();
}

/// <summary>
/// One test's own world on a shared server: an API scope with its resource, a resource server allowed to introspect
/// for that resource, an app allowed the code and refresh grants for the API, and a signed-in user. Nothing is shared
/// with other tests, so they can run in any order on the same host.
/// </summary>
public sealed class TokenScenario : IDisposable
{
    public const string StandardScopes = "openid profile email offline_access";
    public const string InactiveBody = """{"active":false}""";

    private TokenScenario(ServerFactory server, TestClient app, TestClient resourceServer, string api, string resource, ApplicationUser user)
    {
        Server = server;
        App = app;
        ResourceServer = resourceServer;
        Api = api;
        Resource = resource;
        User = user;
        Browser = new BrowserSession(server);
    }

    public ServerFactory Server { get; }
    public TestClient App { get; }
    public TestClient ResourceServer { get; }
    /// <summary>The API scope's name; its resource (the access token's audience) is <see cref="Resource"/>.</summary>
    public string Api { get; }
    public string Resource { get; }
    public ApplicationUser User { get; }
    public BrowserSession Browser { get; }
    public HttpClient Http => Browser.Http;
    public string FullScope => StandardScopes + " " + Api;

    public static async Task<TokenScenario> CreateAsync(ServerFactory server, bool confidential = true, ClientSettings? settings = null,
        bool appCanIntrospect = false)
    {
        var name = "api-" + Guid.NewGuid().ToString("N")[..10];
        var resource = $"https://{name}.example";
        await TestData.CreateScopeAsync(server, name, resource);
        var resourceServer = await CreateResourceServerAsync(server, resource);
        var app = await TestData.CreateClientAsync(server, confidential: confidential, scopes: [.. StandardScopes.Split(' '), name],
            settings: settings, canIntrospect: appCanIntrospect);
        var user = await TestData.CreateUserAsync(server);
        return new TokenScenario(server, app, resourceServer, name, resource, user);
    }

    /// <summary>The same API, resource server and app, used by another person (with a browser of their own).</summary>
    public async Task<TokenScenario> WithAnotherUserAsync() =>
        new(Server, App, ResourceServer, Api, Resource, await TestData.CreateUserAsync(Server));

    /// <summary>A confidential resource server that may introspect tokens whose audience is <paramref name="resource"/>.</summary>
    public static Task<TestClient> CreateResourceServerAsync(ServerFactory server, string resource) =>
        TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [], canIntrospect: true, resource: resource);

    /// <summary>Signs in (the first time) and runs the code flow for <paramref name="client"/>; each call starts a new token family.</summary>
    public async Task<IssuedTokens> SignInAsync(string? scope = null, TestClient? client = null)
    {
        client ??= App;
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(Browser, client, User.UserName!, challenge, scope ?? FullScope);
        Assert.True(callback.ContainsKey("code"), "no code: " + string.Join(", ", callback.Select(p => p.Key + "=" + p.Value)));
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(Http, client, callback["code"], verifier);
        Assert.True(status == HttpStatusCode.OK, "code exchange failed: " + body);
        return ReadTokens(body);
    }

    public Task<EndpointAnswer> RefreshAsync(string refreshToken, string? scope = null, TestClient? client = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        return PostAsync("/connect/token", client ?? App, form);
    }

    /// <summary>Refreshes and asserts success; returns the new tokens.</summary>
    public async Task<IssuedTokens> RotateAsync(string refreshToken, string? scope = null)
    {
        var answer = await RefreshAsync(refreshToken, scope);
        Assert.True(answer.Status == HttpStatusCode.OK, "refresh failed: " + answer.Raw);
        return ReadTokens(answer.Body);
    }

    /// <summary>Introspects as <paramref name="caller"/> (the resource server by default).</summary>
    public Task<EndpointAnswer> IntrospectAsync(string token, TestClient? caller = null, string? hint = null) =>
        PostAsync("/connect/introspect", caller ?? ResourceServer, TokenForm(token, hint));

    public Task<EndpointAnswer> RevokeAsync(string token, TestClient? caller = null, string? hint = null) =>
        PostAsync("/connect/revoke", caller ?? App, TokenForm(token, hint));

    /// <summary>Asserts the exact RFC 7662 §2.2 inactive answer: 200 and nothing but {"active":false}.</summary>
    public async Task AssertInactiveAsync(string token, TestClient? caller = null)
    {
        var answer = await IntrospectAsync(token, caller);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(InactiveBody, answer.Raw);
    }

    public async Task AssertActiveAsync(string token, TestClient? caller = null)
    {
        var answer = await IntrospectAsync(token, caller);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.True(answer.Active, "expected active: " + answer.Raw);
    }

    /// <summary>Posts a form as <paramref name="caller"/>: Basic for a confidential client, client_id alone for a public one, nothing when null.</summary>
    public async Task<EndpointAnswer> PostAsync(string path, TestClient? caller, Dictionary<string, string> form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        var fields = new Dictionary<string, string>(form);
        if (caller?.Secret is { } secret)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(caller.ClientId) + ":" + Uri.EscapeDataString(secret))));
        }
        else if (caller is not null)
        {
            fields["client_id"] = caller.ClientId;
        }

        request.Content = new FormUrlEncodedContent(fields);
        var response = await Http.SendAsync(request);
        var raw = await response.Content.ReadAsStringAsync();
        var body = raw.Length == 0 ? default : JsonDocument.Parse(raw).RootElement.Clone();
        return new EndpointAnswer(response.StatusCode, raw, body, response);
    }

    /// <summary>The family (Authorizations row) a refresh token belongs to, with its refresh tokens, read from the database.</summary>
    public Task<(OAuthAuthorization Family, List<OAuthToken> RefreshTokens)> FamilyAsync(string authorizationId) =>
        Server.WithDatabaseAsync(async db =>
        {
            var family = await db.Authorizations.AsNoTracking().SingleAsync(a => a.Id == authorizationId);
            var tokens = await db.Tokens.AsNoTracking()
                .Where(t => t.AuthorizationId == authorizationId && t.Type == TokenTypes.RefreshToken)
                // Oldest first. Under the fake clock a token and its successor can share a creation time, and the
                // database's order of ties is its own: a redeemed token comes before the ones issued from it.
                .OrderBy(t => t.CreationDate).ThenBy(t => t.RedemptionDate == null).ToListAsync();
            return (family, tokens);
        });

    /// <summary>The grant_id private claim of an access token: the family it belongs to.</summary>
    public static string FamilyOf(IssuedTokens tokens) => new JsonWebToken(tokens.AccessToken).GetPayloadValue<string>(TokenIssuer.AuthorizationIdClaim);

    private static Dictionary<string, string> TokenForm(string token, string? hint)
    {
        var form = new Dictionary<string, string> { ["token"] = token };
        if (hint is not null)
        {
            form["token_type_hint"] = hint;
        }

        return form;
    }

    private static IssuedTokens ReadTokens(JsonElement body) => new(
        body.GetProperty("access_token").GetString()!,
        body.TryGetProperty("refresh_token", out var refresh) ? refresh.GetString() : null,
        body.TryGetProperty("id_token", out var id) ? id.GetString() : null,
        body.TryGetProperty("scope", out var scope) ? scope.GetString() : null);

    public void Dispose() => Browser.Dispose();
}
