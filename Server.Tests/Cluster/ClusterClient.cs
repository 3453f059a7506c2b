using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AngleSharp.Html.Parser;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Tests.Cluster;

/// <summary>
/// A browser and an app talking to the cluster's instances over real HTTP. The cookie jar is one for all instances
/// (cookies do not depend on the port), as one browser behind a load balancer: which instance answers is chosen per
/// request, so a flow can start on one instance and go on on another.
/// </summary>
internal sealed class ClusterClient(ClusterFixture cluster) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        CookieContainer = new CookieContainer(),
        UseCookies = true,
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// The authorization-code flow with PKCE: /connect/authorize on <paramref name="start"/> (sent to the login page),
    /// the login form (with A's antiforgery token) posted to <paramref name="finish"/>, which also answers the return to
    /// /connect/authorize with the code. Returns the code and the PKCE verifier.
    /// </summary>
    public async Task<(string Code, string Verifier)> AuthorizeAsync(int start, int finish, string userName, string password)
    {
        var (verifier, challenge) = TestData.NewPkce();
        var query = QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = ClusterFixture.ClientId,
            ["redirect_uri"] = ClusterFixture.RedirectUri,
            ["scope"] = "openid profile offline_access",
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
            ["state"] = "cluster-state",
            ["nonce"] = "cluster-nonce",
        });
        using var authorize = await _http.GetAsync(new Uri(cluster.BaseAddress(start), query));
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        var loginUrl = new Uri(cluster.BaseAddress(start), authorize.Headers.Location!);
        Assert.Equal("/account/login", loginUrl.AbsolutePath);

        using var loginPage = await _http.GetAsync(loginUrl);
        Assert.Equal(HttpStatusCode.OK, loginPage.StatusCode);
        var form = new HtmlParser().ParseDocument(await loginPage.Content.ReadAsStringAsync()).Forms[0];
        var fields = form.Elements.OfType<AngleSharp.Html.Dom.IHtmlInputElement>()
            .Where(i => !string.IsNullOrEmpty(i.Name) && i.Type != "submit")
            .ToDictionary(i => i.Name!, i => i.Value);
        fields["Username"] = userName;
        fields["Password"] = password;

        // The form goes to another instance: its antiforgery token must decrypt there (the shared Data Protection key ring).
        using var signIn = await _http.PostAsync(new Uri(cluster.BaseAddress(finish), loginUrl.PathAndQuery), new FormUrlEncodedContent(fields));
        Assert.True(signIn.StatusCode == HttpStatusCode.Redirect, $"sign-in on {ClusterFixture.Names[finish]} answered {(int)signIn.StatusCode}");
        var back = new Uri(cluster.BaseAddress(finish), signIn.Headers.Location!);
        Assert.Equal("/connect/authorize", back.AbsolutePath);

        using var callback = await _http.GetAsync(back);
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var location = callback.Headers.Location!.ToString();
        Assert.StartsWith(ClusterFixture.RedirectUri, location, StringComparison.Ordinal);
        var parameters = QueryHelpers.ParseQuery(new Uri(location).Query);
        Assert.Equal("cluster-state", parameters["state"].ToString());
        Assert.Equal(cluster.Issuer, parameters["iss"].ToString());
        return (parameters["code"].ToString(), verifier);
    }

    /// <summary>A code flow for this (signed-in) browser: /connect/authorize on one instance, the code redeemed on another.</summary>
    public async Task<JsonElement> CodeFlowAsync(int authorizeOn, int redeemOn)
    {
        var (verifier, challenge) = TestData.NewPkce();
        var query = QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = ClusterFixture.ClientId,
            ["redirect_uri"] = ClusterFixture.RedirectUri,
            ["scope"] = "openid profile offline_access",
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        });
        using var authorize = await _http.GetAsync(new Uri(cluster.BaseAddress(authorizeOn), query));
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        var location = authorize.Headers.Location!.ToString();
        Assert.StartsWith(ClusterFixture.RedirectUri, location, StringComparison.Ordinal);
        var code = QueryHelpers.ParseQuery(new Uri(location).Query)["code"].ToString();
        var (status, tokens) = await RedeemAsync(redeemOn, code, verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        return tokens;
    }

    public Task<(HttpStatusCode Status, JsonElement Body)> RedeemAsync(int instance, string code, string verifier) =>
        PostAsync(instance, "/connect/token", new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = ClusterFixture.RedirectUri,
            ["code_verifier"] = verifier,
        });

    public Task<(HttpStatusCode Status, JsonElement Body)> RefreshAsync(int instance, string refreshToken) =>
        PostAsync(instance, "/connect/token", new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });

    public Task<(HttpStatusCode Status, JsonElement Body)> IntrospectAsync(int instance, string token) =>
        PostAsync(instance, "/connect/introspect", new() { ["token"] = token });

    public Task<(HttpStatusCode Status, JsonElement Body)> RevokeAsync(int instance, string token, string hint) =>
        PostAsync(instance, "/connect/revoke", new() { ["token"] = token, ["token_type_hint"] = hint });

    /// <summary>A client request authenticated with HTTP Basic (RFC 6749 §2.3.1).</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(int instance, string path, Dictionary<string, string> form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.BaseAddress(instance), path))
        {
            Content = new FormUrlEncodedContent(form),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            Uri.EscapeDataString(ClusterFixture.ClientId) + ":" + Uri.EscapeDataString(cluster.ClientSecret))));
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<string> GetStringAsync(int instance, string path) =>
        await _http.GetStringAsync(new Uri(cluster.BaseAddress(instance), path));

    public void Dispose() => _http.Dispose();
}
