using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AngleSharp.Html.Parser;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Tests.Security;

/// <summary>One hostile request: how to send it, and what a correct refusal looks like.</summary>
/// <param name="Send">Sends the request. Preparation that may write (signing in) calls <see cref="Probe.ReadyAsync"/> when done.</param>
/// <param name="Check">The endpoint-specific verdict; the runner checks the general rules (no 5xx, no foreign redirect, no write).</param>
/// <param name="FailedSignInMayBeAudited">A sign-in form case: a failed attempt is recorded in the audit log (and nothing else).</param>
public sealed record HostileCase(Func<Probe, Task<HttpResponseMessage>> Send, Func<Probe, HttpResponseMessage, Task> Check, bool FailedSignInMayBeAudited = false);

/// <summary>What a hostile case works with: the world of real clients and tokens, an HTTP client that keeps cookies and never follows redirects.</summary>
public sealed class Probe(SecurityServer server, World world, HttpClient http)
{
    public SecurityServer Server { get; } = server;
    public World World { get; } = world;
    public HttpClient Http { get; } = http;
    public string? Before { get; private set; }

    /// <summary>Preparation is over: what the database holds now is what it must still hold after the hostile request.</summary>
    public async Task ReadyAsync() => Before = await DatabaseSnapshot.TakeAsync(Server);

    public Task<HttpResponseMessage> GetAsync(string url, Action<HttpRequestMessage>? configure = null) => SendAsync(HttpMethod.Get, url, null, configure);

    /// <summary>A POST with exactly this body and content type (null: no Content-Type header at all).</summary>
    public Task<HttpResponseMessage> PostAsync(string url, string? body, string? contentType = Hostile.Form, Action<HttpRequestMessage>? configure = null)
    {
        HttpContent? content = null;
        if (body is not null)
        {
            content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        return SendAsync(HttpMethod.Post, url, content, configure);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, HttpContent? content, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(url, UriKind.Relative)) { Content = content };
        configure?.Invoke(request);
        return await Http.SendAsync(request);
    }

    /// <summary>The antiforgery field of a page's first form (fetching the page sets the matching cookie).</summary>
    public async Task<string> AntiforgeryTokenAsync(string pageUrl)
    {
        using var page = await GetAsync(pageUrl);
        var document = new HtmlParser().ParseDocument(await page.Content.ReadAsStringAsync());
        return document.QuerySelector("input[name=__RequestVerificationToken]")?.GetAttribute("value")
            ?? throw new InvalidOperationException($"{pageUrl} has no antiforgery field ({(int)page.StatusCode}).");
    }

    /// <summary>Signs this probe's cookie jar in as the world's user.</summary>
    public async Task SignInAsync()
    {
        var token = await AntiforgeryTokenAsync("/account/login");
        using var response = await PostAsync("/account/login", Hostile.FormOf(("Username", World.User.UserName!), ("Password", TestData.Password), ("__RequestVerificationToken", token)));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }
}

/// <summary>Building hostile requests, and the verdicts every refusal must meet.</summary>
public static class Hostile
{
    public const string Form = "application/x-www-form-urlencoded";

    /// <summary>Values far past every limit the server sets (2 KB parameters, 100-character client ids, 8 KB tokens).</summary>
    public static readonly string Huge = new('A', 100_000);

    public static readonly string CrLfInjection = "abc\r\nSet-Cookie: injected=1\r\nLocation: https://evil.example/";

    public static readonly string Script = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";

    /// <summary>A form body, each name and value percent-encoded; repeat a pair to repeat a parameter.</summary>
    public static string FormOf(params (string Name, string Value)[] pairs) =>
        string.Join('&', pairs.Select(p => Uri.EscapeDataString(p.Name) + "=" + Uri.EscapeDataString(p.Value)));

    public static Action<HttpRequestMessage> Authorization(string scheme, string value) =>
        request => request.Headers.TryAddWithoutValidation("Authorization", scheme.Length == 0 ? value : scheme + " " + value);

    public static Action<HttpRequestMessage> Basic(TestClient client) => request => request.Headers.Authorization = World.Basic(client);

    public static Action<HttpRequestMessage> Bearer(string token) => request => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

    public static HttpClient CreateClient(ServerFactory server) =>
        server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost/"), HandleCookies = true });

    /// <summary>An OAuth error (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 7662 §2.3, RFC 6750 §3.1): JSON, one of the expected codes, never cached.</summary>
    public static async Task<JsonElement> OAuthErrorAsync(HttpResponseMessage response, string[] errors, params HttpStatusCode[] statuses)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(statuses.Length == 0 ? (int)response.StatusCode is >= 400 and < 500 : statuses.Contains(response.StatusCode),
            $"Unexpected status {(int)response.StatusCode}: {Shorten(text)}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        var error = body.GetProperty("error").GetString();
        Assert.True(errors.Contains(error), $"error '{error}' is not one of {string.Join(", ", errors)}: {Shorten(text)}");
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        return body;
    }

    /// <summary>A page for a person that names the problem and sends them nowhere.</summary>
    public static async Task<string> ErrorPageAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {Shorten(html)}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Headers.Location);
        Assert.Contains("<h1>", html, StringComparison.Ordinal);
        return html;
    }

    /// <summary>A redirect to the client's registered redirect URI carrying the error (RFC 6749 §4.1.2.1) and iss (RFC 9207).</summary>
    public static Dictionary<string, string> ClientRedirect(HttpResponseMessage response, TestClient client, string error)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        Assert.StartsWith(client.RedirectUri + "?", location, StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(new Uri(location).Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        Assert.Equal(error, query["error"]);
        Assert.Equal(ServerFactory.Issuer, query["iss"]);
        return query;
    }

    /// <summary>A redirect that stays on this server (to sign in, to the logout page).</summary>
    public static string LocalRedirect(HttpResponseMessage response, string pathPrefix)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"Expected a redirect, got {(int)response.StatusCode}");
        var location = response.Headers.Location!.OriginalString;
        Assert.StartsWith(pathPrefix, location, StringComparison.Ordinal);
        return location;
    }

    /// <summary>
    /// The rule for every answer: a redirect goes to this site (a path, never "//host" or "/\host") or to a redirect
    /// URI registered for a client, and no header carries a line break an attacker put in.
    /// </summary>
    public static void NoForeignRedirect(HttpResponseMessage response, World world)
    {
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            Assert.DoesNotContain(header.Value, v => v.Contains('\r', StringComparison.Ordinal) || v.Contains('\n', StringComparison.Ordinal));
        }

        Assert.DoesNotContain(response.Headers, h => h.Key.Equals("injected", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], c => c.StartsWith("injected", StringComparison.Ordinal));
        if (response.Headers.Location is not { } location)
        {
            return;
        }

        var target = location.OriginalString;
        var local = target.StartsWith('/') && !target.StartsWith("//", StringComparison.Ordinal) && !target.StartsWith("/\\", StringComparison.Ordinal);
        var registered = world.RegisteredRedirectUris.Concat(["https://rp.example/signed-out"])
            .Any(uri => target == uri || target.StartsWith(uri + "?", StringComparison.Ordinal));
        Assert.True(local || registered, $"Redirect to an unregistered place: {target}");
    }

    public static string Shorten(string text) => text.Length > 400 ? text[..400] + "..." : text;
}
