using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// Pushed authorization requests (RFC 9126): the push (§2: client authentication, the /authorize validation steps,
/// JSON errors), the request_uri at /authorize (§4: the pushed parameters and no others, single use, 60 s, bound to the
/// client), and "PAR required" (§5).
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class PushedAuthorizationTests(SqliteServer server)
{
    [Fact]
    public async Task A_pushed_request_runs_the_code_flow_with_the_pushed_parameters_only()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var (verifier, challenge) = TestData.NewPkce();

        using var push = await PushAsync(client, challenge, ("state", "pushed-state"));
        Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        Assert.Equal("no-store", push.Headers.CacheControl?.ToString());
        var body = JsonDocument.Parse(await push.Content.ReadAsStringAsync()).RootElement;
        var requestUri = body.GetProperty("request_uri").GetString()!;
        Assert.StartsWith("urn:ietf:params:oauth:request_uri:", requestUri, StringComparison.Ordinal);
        Assert.Equal(60, body.GetProperty("expires_in").GetInt32());

        // §4: parameters sent beside request_uri are ignored (this redirect_uri and state are not the pushed ones).
        using var browser = new BrowserSession(server);
        var response = await browser.GetAsync(AuthorizeUrl(client, requestUri, ("state", "outer-state"), ("redirect_uri", "https://evil.example/cb")));
        response = await OAuthFlow.SignInAsync(browser, response, user.UserName!);
        var callback = OAuthFlow.CallbackParameters(response, client);
        Assert.Equal("pushed-state", callback["state"]);

        var (status, tokens, _) = await RedeemAsync(client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(tokens.TryGetProperty("id_token", out _));

        // The code was issued: the request is used up, even for the browser that brought it.
        var again = await browser.GetAsync(AuthorizeUrl(client, requestUri));
        await AssertErrorPageAsync(again);
    }

    [Fact]
    public async Task A_pushed_prompt_login_is_satisfied_by_the_sign_in_it_causes()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (_, firstChallenge) = TestData.NewPkce();
        await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, firstChallenge); // a session exists
        server.Time.Advance(TimeSpan.FromSeconds(2));

        var (_, challenge) = TestData.NewPkce();
        using var push = await PushAsync(client, challenge, ("prompt", "login"), ("max_age", "0"));
        var requestUri = await RequestUriAsync(push);

        // prompt=login sends the person to sign in even with a session; the request_uri alone comes back, and the fresh
        // sign-in satisfies prompt and max_age instead of asking again.
        var response = await browser.GetAsync(AuthorizeUrl(client, requestUri));
        Assert.Equal("/account/login", response.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("request_uri", Uri.UnescapeDataString(response.RequestMessage.RequestUri.Query), StringComparison.Ordinal);
        Assert.DoesNotContain("code_challenge", Uri.UnescapeDataString(response.RequestMessage.RequestUri.Query), StringComparison.Ordinal);
        response = await OAuthFlow.SignInAsync(browser, response, user.UserName!);
        Assert.True(OAuthFlow.CallbackParameters(response, client).ContainsKey("code"));
    }

    [Fact]
    public async Task A_pushed_request_for_a_third_party_client_goes_through_consent()
    {
        var client = await TestData.CreateClientAsync(server, consent: true);
        var user = await TestData.CreateUserAsync(server);
        var (verifier, challenge) = TestData.NewPkce();
        var requestUri = await RequestUriAsync(await PushAsync(client, challenge));

        using var browser = new BrowserSession(server);
        var response = await browser.GetAsync(AuthorizeUrl(client, requestUri));
        response = await OAuthFlow.SignInAsync(browser, response, user.UserName!);
        Assert.Equal("/consent", response.RequestMessage!.RequestUri!.AbsolutePath);
        response = await browser.SubmitAsync(response, [], pressButtonValue: "allow");
        var callback = OAuthFlow.CallbackParameters(response, client);
        Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(client, callback["code"], verifier)).Status);
    }

    [Fact]
    public async Task Push_errors_are_json_never_redirects()
    {
        var client = await TestData.CreateClientAsync(server);
        var (_, challenge) = TestData.NewPkce();

        await AssertPushErrorAsync(await PushAsync(client, challenge, ("redirect_uri", "https://evil.example/cb")), "invalid_request", "redirect_uri");
        await AssertPushErrorAsync(await PushAsync(client, challenge, ("scope", "openid not-a-scope")), "invalid_scope", "not-a-scope");
        await AssertPushErrorAsync(await PushAsync(client, challenge, ("code_challenge_method", "plain")), "invalid_request", "S256");
        await AssertPushErrorAsync(await PushAsync(client, challenge, ("request_uri", "urn:ietf:params:oauth:request_uri:abc")), "invalid_request", "request_uri");
        await AssertPushErrorAsync(await PushAsync(client, challenge, ("response_type", "token")), "unsupported_response_type", "code");

        // §2: the push is client-authenticated like the token endpoint.
        using var http = server.CreateClient();
        using var anonymous = await http.PostAsync(new Uri("/connect/par", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = client.ClientId,
            ["response_type"] = "code",
        }));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("invalid_client", JsonDocument.Parse(await anonymous.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Only_one_of_many_concurrent_first_uses_of_a_request_uri_wins()
    {
        var client = await TestData.CreateClientAsync(server);
        var (_, challenge) = TestData.NewPkce();
        var requestUri = await RequestUriAsync(await PushAsync(client, challenge));

        // Eight browsers (eight cookie jars) bring the same request_uri at once.
        var browsers = Enumerable.Range(0, 8).Select(_ => new BrowserSession(server)).ToList();
        try
        {
            var responses = await Task.WhenAll(browsers.Select(b => b.Http.GetAsync(new Uri(AuthorizeUrl(client, requestUri), UriKind.Relative))));
            Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Redirect));
            Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
            // The winner alone may continue (its cookie); the others stay refused.
            var winner = browsers[Array.FindIndex(responses, r => r.StatusCode == HttpStatusCode.Redirect)];
            Assert.Equal(HttpStatusCode.Redirect, (await winner.Http.GetAsync(new Uri(AuthorizeUrl(client, requestUri), UriKind.Relative))).StatusCode);
            var loser = browsers.First(b => b != winner);
            Assert.Equal(HttpStatusCode.BadRequest, (await loser.Http.GetAsync(new Uri(AuthorizeUrl(client, requestUri), UriKind.Relative))).StatusCode);
        }
        finally
        {
            browsers.ForEach(b => b.Dispose());
        }
    }

    [Fact]
    public async Task Only_one_of_two_concurrent_approvals_issues_a_code()
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var (_, challenge) = TestData.NewPkce();
        var requestUri = await RequestUriAsync(await PushAsync(client, challenge));
        using var browser = new BrowserSession(server);
        var login = await browser.GetAsync(AuthorizeUrl(client, requestUri));
        var signedIn = await OAuthFlow.SignInAsync(browser, login, user.UserName!);
        Assert.True(OAuthFlow.CallbackParameters(signedIn, client).ContainsKey("code"));

        // A new pushed request, signed in already: two tabs of the one browser race to the code.
        var second = await RequestUriAsync(await PushAsync(client, challenge));
        var claim = await browser.Http.GetAsync(new Uri(AuthorizeUrl(client, second), UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, claim.StatusCode); // the first use claims it and answers at once
        var raced = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => browser.Http.GetAsync(new Uri(AuthorizeUrl(client, second), UriKind.Relative))));
        Assert.All(raced, r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
    }

    [Fact]
    public async Task An_expired_request_uri_is_refused()
    {
        var client = await TestData.CreateClientAsync(server);
        var (_, challenge) = TestData.NewPkce();
        var requestUri = await RequestUriAsync(await PushAsync(client, challenge));

        server.Time.Advance(TimeSpan.FromSeconds(61));
        using var browser = new BrowserSession(server);
        await AssertErrorPageAsync(await browser.GetAsync(AuthorizeUrl(client, requestUri)));

        // Within 60 s the same kind of request works.
        var fresh = await RequestUriAsync(await PushAsync(client, challenge));
        server.Time.Advance(TimeSpan.FromSeconds(59));
        var response = await browser.GetAsync(AuthorizeUrl(client, fresh));
        Assert.Equal("/account/login", response.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task A_request_uri_is_bound_to_the_client_that_pushed_it()
    {
        var client = await TestData.CreateClientAsync(server);
        var other = await TestData.CreateClientAsync(server);
        var (_, challenge) = TestData.NewPkce();
        var requestUri = await RequestUriAsync(await PushAsync(client, challenge));

        using var browser = new BrowserSession(server);
        await AssertErrorPageAsync(await browser.GetAsync(AuthorizeUrl(other, requestUri)));
        // RFC 9126 §4: client_id is still required beside request_uri.
        var noClientId = await browser.GetAsync($"/connect/authorize?request_uri={Uri.EscapeDataString(requestUri)}");
        Assert.Equal(HttpStatusCode.BadRequest, noClientId.StatusCode);
        Assert.Contains("no client_id", await noClientId.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertErrorPageAsync(await browser.GetAsync(AuthorizeUrl(client, "urn:ietf:params:oauth:request_uri:made-up")));
        // The wrong client did not use it up: its own client still can.
        var response = await browser.GetAsync(AuthorizeUrl(client, requestUri));
        Assert.Equal("/account/login", response.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task A_client_that_requires_par_is_refused_a_plain_authorization_request()
    {
        var client = await TestData.CreateClientAsync(server, settings: new ClientSettings { RequirePushedAuthorizationRequests = true });
        var user = await TestData.CreateUserAsync(server);
        var (verifier, challenge) = TestData.NewPkce();

        using var browser = new BrowserSession(server);
        var plain = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge));
        var error = OAuthFlow.CallbackParameters(plain, client);
        Assert.Equal("invalid_request", error["error"]);
        Assert.Contains("push", error["error_description"], StringComparison.Ordinal);

        var requestUri = await RequestUriAsync(await PushAsync(client, challenge));
        var response = await OAuthFlow.SignInAsync(browser, await browser.GetAsync(AuthorizeUrl(client, requestUri)), user.UserName!);
        var callback = OAuthFlow.CallbackParameters(response, client);
        Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(client, callback["code"], verifier)).Status);
    }

    [Fact]
    public async Task Discovery_advertises_the_par_endpoint()
    {
        using var http = server.CreateClient();
        var root = JsonDocument.Parse(await http.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).RootElement;
        Assert.Equal(ServerFactory.Issuer + "/connect/par", root.GetProperty("pushed_authorization_request_endpoint").GetString());
        Assert.False(root.GetProperty("require_pushed_authorization_requests").GetBoolean());
    }

    internal static string AuthorizeUrl(TestClient client, string requestUri, params (string Name, string Value)[] extra)
    {
        var url = QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?> { ["client_id"] = client.ClientId, ["request_uri"] = requestUri });
        return extra.Aggregate(url, (current, pair) => QueryHelpers.AddQueryString(current, pair.Name, pair.Value));
    }

    /// <summary>Pushes a code-flow request like OAuthFlow.AuthorizeUrl's, with the client's secret (Basic); extra pairs replace or add parameters.</summary>
    internal static async Task<HttpResponseMessage> PushAsync(ServerFactory server, TestClient client, string challenge, params (string Name, string Value)[] extra)
    {
        var form = new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["redirect_uri"] = client.RedirectUri,
            ["scope"] = "openid profile",
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
            ["state"] = "state-123",
            ["nonce"] = "nonce-456",
        };
        foreach (var (name, value) in extra)
        {
            form[name] = value;
        }

        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/par") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(client.ClientId) + ":" + Uri.EscapeDataString(client.Secret!))));
        return await http.SendAsync(request);
    }

    private Task<HttpResponseMessage> PushAsync(TestClient client, string challenge, params (string Name, string Value)[] extra) =>
        PushAsync(server, client, challenge, extra);

    internal static async Task<string> RequestUriAsync(HttpResponseMessage push)
    {
        using (push)
        {
            Assert.Equal(HttpStatusCode.Created, push.StatusCode);
            return JsonDocument.Parse(await push.Content.ReadAsStringAsync()).RootElement.GetProperty("request_uri").GetString()!;
        }
    }

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> RedeemAsync(TestClient client, string code, string verifier)
    {
        using var http = server.CreateClient();
        return await OAuthFlow.RedeemCodeAsync(http, client, code, verifier);
    }

    private static async Task AssertPushErrorAsync(HttpResponseMessage response, string error, string mentions)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Null(response.Headers.Location);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(error, body.GetProperty("error").GetString());
            Assert.Contains(mentions, body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        }
    }

    private static async Task AssertErrorPageAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("expired or was already used", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

/// <summary>The server-wide switch (PushedAuthorization:RequireForAllClients) on a host of its own.</summary>
public sealed class ParRequiredServer : ServerFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PushedAuthorization:RequireForAllClients"] = "true" };
}

public sealed class ServerWidePushedAuthorizationTests(ParRequiredServer server) : IClassFixture<ParRequiredServer>
{
    [Fact]
    public async Task Every_client_must_push_and_discovery_says_so()
    {
        var client = await TestData.CreateClientAsync(server);
        var (_, challenge) = TestData.NewPkce();
        using var browser = new BrowserSession(server);

        var plain = OAuthFlow.CallbackParameters(await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge)), client);
        Assert.Equal("invalid_request", plain["error"]);

        var requestUri = await PushedAuthorizationTests.RequestUriAsync(await PushedAuthorizationTests.PushAsync(server, client, challenge));
        var response = await browser.GetAsync(PushedAuthorizationTests.AuthorizeUrl(client, requestUri));
        Assert.Equal("/account/login", response.RequestMessage!.RequestUri!.AbsolutePath);

        using var http = server.CreateClient();
        var root = JsonDocument.Parse(await http.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).RootElement;
        Assert.True(root.GetProperty("require_pushed_authorization_requests").GetBoolean());
    }
}
