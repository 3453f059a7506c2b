using System.Net;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Protocol;

/// <summary>The device authorization response (RFC 8628 §3.2) as a test reads it.</summary>
public sealed record DeviceStart(string DeviceCode, string UserCode, string VerificationUri, string VerificationUriComplete, int ExpiresIn, int Interval);

/// <summary>The device side of RFC 8628 for tests: start, poll, and a person answering on the user-code page.</summary>
public static class DeviceFlow
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:device_code";

    /// <summary>A client allowed the device grant (and refresh tokens), for the standard scopes and <paramref name="extraScopes"/>.</summary>
    public static Task<TestClient> CreateClientAsync(ServerFactory server, bool confidential = false, params string[] extraScopes) =>
        TestData.CreateClientAsync(server, confidential: confidential, grantTypes: [GrantType, "refresh_token"],
            scopes: ["openid", "profile", "email", "offline_access", .. extraScopes]);

    public static Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> RequestAsync(HttpClient http, TestClient client,
        string scope = "openid profile email offline_access", params (string Name, string Value)[] extra)
    {
        var form = new Dictionary<string, string> { ["scope"] = scope };
        foreach (var (name, value) in extra)
        {
            form[name] = value;
        }

        return TokenChecks.PostAsync(http, "/connect/device", client, form);
    }

    public static async Task<DeviceStart> StartAsync(HttpClient http, TestClient client, string scope = "openid profile email offline_access")
    {
        var (status, body, _) = await RequestAsync(http, client, scope);
        Assert.True(status == HttpStatusCode.OK, "device authorization failed: " + body);
        return new DeviceStart(body.GetProperty("device_code").GetString()!, body.GetProperty("user_code").GetString()!,
            body.GetProperty("verification_uri").GetString()!, body.GetProperty("verification_uri_complete").GetString()!,
            body.GetProperty("expires_in").GetInt32(), body.GetProperty("interval").GetInt32());
    }

    public static Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PollAsync(HttpClient http, TestClient client, string deviceCode) =>
        TokenChecks.PostAsync(http, "/connect/token", client, new() { ["grant_type"] = GrantType, ["device_code"] = deviceCode });

    /// <summary>Opens the user-code page with <paramref name="userCode"/> (as verification_uri_complete does), signing in when asked.</summary>
    public static async Task<HttpResponseMessage> OpenAsync(BrowserSession browser, string userCode, string userName)
    {
        var page = await browser.GetAsync("/device?user_code=" + Uri.EscapeDataString(userCode));
        if (page.RequestMessage!.RequestUri!.AbsolutePath == "/account/login")
        {
            page = await OAuthFlow.SignInAsync(browser, page, userName);
        }

        Assert.Equal("/device", page.RequestMessage!.RequestUri!.AbsolutePath);
        return page;
    }

    /// <summary>Answers on the confirmation page: "approve" or "deny". Returns the page shown afterwards.</summary>
    public static async Task<string> AnswerAsync(BrowserSession browser, string userCode, string userName, string decision)
    {
        var page = await OpenAsync(browser, userCode, userName);
        var answered = await browser.SubmitAsync(page, [], pressButtonValue: decision);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        return await answered.Content.ReadAsStringAsync();
    }
}
