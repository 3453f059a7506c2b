using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>The client side of the protocol, for tests: build authorize URLs, read redirects, call the token endpoint.</summary>
public static class OAuthFlow
{
    public static string AuthorizeUrl(TestClient client, string challenge, string scope = "openid profile email offline_access",
        string? state = "state-123", string? nonce = "nonce-456", params (string Name, string Value)[] extra)
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = client.RedirectUri,
            ["scope"] = scope,
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        };
        if (state is not null)
        {
            query["state"] = state;
        }

        if (nonce is not null)
        {
            query["nonce"] = nonce;
        }

        var url = QueryHelpers.AddQueryString("/connect/authorize", query);
        foreach (var (name, value) in extra)
        {
            url += "&" + Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value);
        }

        return url;
    }

    /// <summary>Signs in on the login page the session was sent to.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(BrowserSession browser, HttpResponseMessage loginPage, string userName, string password = TestData.Password)
    {
        Assert.Equal(HttpStatusCode.OK, loginPage.StatusCode);
        Assert.Contains("/account/login", loginPage.RequestMessage!.RequestUri!.AbsolutePath, StringComparison.Ordinal);
        return await browser.SubmitAsync(loginPage, new() { ["Username"] = userName, ["Password"] = password });
    }

    /// <summary>The parameters of a redirect back to the client (the final response must be a redirect to it).</summary>
    public static Dictionary<string, string> CallbackParameters(HttpResponseMessage response, TestClient client)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"Expected a redirect to the client, got {(int)response.StatusCode}");
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith(client.RedirectUri, location, StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(new Uri(location).Query);
        return query.ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    /// <summary>Runs /authorize through sign-in (and consent when asked) and returns the callback parameters.</summary>
    public static async Task<Dictionary<string, string>> AuthorizeAsync(BrowserSession browser, TestClient client, string userName, string challenge,
        string scope = "openid profile email offline_access", string? nonce = "nonce-456", params (string Name, string Value)[] extra)
    {
        var response = await browser.GetAsync(AuthorizeUrl(client, challenge, scope, nonce: nonce, extra: extra));
        if (response.StatusCode == HttpStatusCode.OK && response.RequestMessage!.RequestUri!.AbsolutePath == "/account/login")
        {
            response = await SignInAsync(browser, response, userName);
        }

        if (response.StatusCode == HttpStatusCode.OK && response.RequestMessage!.RequestUri!.AbsolutePath == "/consent")
        {
            response = await browser.SubmitAsync(response, [], pressButtonValue: "allow");
        }

        return CallbackParameters(response, client);
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostTokenAsync(
        HttpClient http, TestClient client, Dictionary<string, string> form, bool basic = true, string? dpop = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token");
        if (dpop is not null)
        {
            request.Headers.Add("DPoP", dpop);
        }

        var fields = new Dictionary<string, string>(form);
        if (client.Secret is not null && basic)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(client.ClientId) + ":" + Uri.EscapeDataString(client.Secret))));
        }
        else
        {
            fields.TryAdd("client_id", client.ClientId);
            if (client.Secret is not null)
            {
                fields.TryAdd("client_secret", client.Secret);
            }
        }

        request.Content = new FormUrlEncodedContent(fields);
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body, response);
    }

    public static Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> RedeemCodeAsync(
        HttpClient http, TestClient client, string code, string verifier, string? dpop = null) =>
        PostTokenAsync(http, client, new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = client.RedirectUri,
            ["code_verifier"] = verifier,
        }, dpop: dpop);

    /// <summary>
    /// The end of a flow a real browser drove: the redirect the app received carries the state and the issuer (RFC 9207
    /// §2), and its code is redeemed over the network. Returns the ID token.
    /// </summary>
    public static async Task<Microsoft.IdentityModel.JsonWebTokens.JsonWebToken> RedeemBrowserCallbackAsync(
        KestrelServer server, TestClient client, Uri callback, string verifier)
    {
        var query = QueryHelpers.ParseQuery(callback.Query);
        Assert.Equal("state-123", query["state"].ToString());
        Assert.Equal(server.IssuerUri, query["iss"].ToString());
        using var http = new HttpClient { BaseAddress = server.RootUri };
        var (status, tokens, _) = await RedeemCodeAsync(http, client, query["code"].ToString(), verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        return new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.GetProperty("id_token").GetString());
    }
}
