using System.Net;
using AngleSharp.Html.Dom;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Tests.Protocol;

/// <summary>Browser-side helpers for /connect/authorize tests: URLs with any parameter changed, sign-in, page checks.</summary>
internal static class AuthorizeRequests
{
    /// <summary>
    /// A valid code-flow request for <paramref name="client"/> with overrides applied: a null value removes the
    /// parameter; <paramref name="extra"/> pairs are appended as they are (so a name may repeat).
    /// </summary>
    public static string Url(TestClient client, string challenge, IEnumerable<(string Name, string? Value)>? overrides = null,
        params (string Name, string Value)[] extra)
    {
        var query = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["response_type"] = "code",
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = client.RedirectUri,
            ["scope"] = "openid profile",
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
            ["state"] = "state-" + Guid.NewGuid().ToString("N")[..8],
            ["nonce"] = "nonce-" + Guid.NewGuid().ToString("N")[..8],
        };
        foreach (var (name, value) in overrides ?? [])
        {
            query[name] = value;
        }

        var pairs = query.Where(p => p.Value is not null).Select(p => (p.Key, p.Value!)).Concat(extra);
        return "/connect/authorize?" + string.Join('&', pairs.Select(p => Uri.EscapeDataString(p.Item1) + "=" + Uri.EscapeDataString(p.Item2)));
    }

    /// <summary>The parameter value the request in <paramref name="url"/> carries (to compare with the echo).</summary>
    public static string Parameter(string url, string name) => QueryHelpers.ParseQuery(new Uri(new Uri("https://localhost"), url).Query)[name].ToString();

    /// <summary>Signs the browser in directly on the sign-in page (no authorization request pending).</summary>
    public static async Task SignInAsync(BrowserSession browser, string userName)
    {
        var login = await browser.GetAsync("/account/login");
        var home = await OAuthFlow.SignInAsync(browser, login, userName);
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Equal("/", home.RequestMessage!.RequestUri!.AbsolutePath);
    }

    public static bool IsLoginPage(HttpResponseMessage response) => IsPage(response, "/account/login");

    public static bool IsConsentPage(HttpResponseMessage response) => IsPage(response, "/consent");

    private static bool IsPage(HttpResponseMessage response, string path) =>
        response.StatusCode == HttpStatusCode.OK && response.RequestMessage!.RequestUri!.AbsolutePath == path;

    /// <summary>An error page for the person: 400, HTML, and no redirect anywhere (RFC 6749 §4.1.2.1).</summary>
    public static async Task<string> AssertErrorPageAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var page = await BrowserSession.ReadPageAsync(response);
        Assert.Empty(page.Forms);
        Assert.DoesNotContain(page.QuerySelectorAll("meta"), m => m.GetAttribute("http-equiv")?.Equals("refresh", StringComparison.OrdinalIgnoreCase) == true);
        return page.Body!.TextContent;
    }

    /// <summary>An error sent back to the client: state echoed, iss present (RFC 9207 §2), no code.</summary>
    public static Dictionary<string, string> AssertErrorRedirect(HttpResponseMessage response, TestClient client, string error, string? state)
    {
        var callback = OAuthFlow.CallbackParameters(response, client);
        Assert.Equal(error, callback["error"]);
        Assert.Equal(ServerFactory.Issuer, callback["iss"]);
        if (state is null)
        {
            Assert.False(callback.ContainsKey("state"));
        }
        else
        {
            Assert.Equal(state, callback["state"]);
        }

        Assert.False(callback.ContainsKey("code"));
        return callback;
    }

    /// <summary>The hidden fields of a form_post response page (OAuth 2.0 Form Post Response Mode §2).</summary>
    public static async Task<(IHtmlFormElement Form, Dictionary<string, string> Fields)> ReadFormPostAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var page = await BrowserSession.ReadPageAsync(response);
        var form = Assert.Single(page.Forms);
        var fields = form.Elements.OfType<IHtmlInputElement>().Where(i => i.Type == "hidden").ToDictionary(i => i.Name!, i => i.Value);
        return (form, fields);
    }
}
