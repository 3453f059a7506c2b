using System.Net;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// Drives the server as a browser would: keeps cookies, follows redirects on this server one by one, reads pages and
/// submits their forms (with their antiforgery fields). Stops at a redirect leaving the server, which is the answer
/// to the client.
/// </summary>
public sealed class BrowserSession : IDisposable
{
    private static readonly Uri BaseAddress = new("https://localhost/");
    private readonly HttpClient _http;

    /// <param name="server">The host to talk to.</param>
    /// <param name="cookies">Another session's cookie jar, to continue as the same browser (for example on a second instance).</param>
    public BrowserSession(ServerFactory server, CookieContainer? cookies = null)
    {
        Cookies = cookies ?? new CookieContainer();
        _http = server.CreateDefaultClient(BaseAddress, new CookieContainerHandler(Cookies));
    }

    public CookieContainer Cookies { get; }

    public HttpClient Http => _http;

    /// <summary>GETs a URL and follows same-site redirects; returns the last response (a page, or a redirect elsewhere).</summary>
    public async Task<HttpResponseMessage> GetAsync(string url)
    {
        var response = await _http.GetAsync(new Uri(url, UriKind.RelativeOrAbsolute));
        return await FollowAsync(response);
    }

    public async Task<HttpResponseMessage> FollowAsync(HttpResponseMessage response)
    {
        for (var hops = 0; hops < 10; hops++)
        {
            if (response.StatusCode is not (HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.RedirectMethod))
            {
                return response;
            }

            var location = response.Headers.Location!;
            var absolute = location.IsAbsoluteUri ? location : new Uri(BaseAddress, location);
            if (absolute.Host != BaseAddress.Host)
            {
                return response;
            }

            response = await _http.GetAsync(absolute);
        }

        throw new InvalidOperationException("Too many redirects.");
    }

    public static async Task<IHtmlDocument> ReadPageAsync(HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        return new HtmlParser().ParseDocument(html);
    }

    /// <summary>Submits the page's form: its own fields (hidden ones included), overridden by <paramref name="values"/>.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(HttpResponseMessage page, Dictionary<string, string> values, string? pressButtonValue = null,
        string? requestPath = null, string? formSelector = null)
    {
        var document = await ReadPageAsync(page);
        var form = (formSelector is not null ? document.QuerySelector(formSelector) as IHtmlFormElement
                : document.Forms.Length > 0 ? document.Forms[0] : null) ?? throw new InvalidOperationException("The page has no form:\n" + document.Body?.TextContent);
        var fields = new List<KeyValuePair<string, string>>();
        foreach (var input in form.Elements.OfType<IHtmlInputElement>())
        {
            if (!string.IsNullOrEmpty(input.Name) && input.Type != "submit")
            {
                fields.Add(new(input.Name, values.TryGetValue(input.Name, out var v) ? v : input.Value));
            }
        }

        foreach (var (name, value) in values)
        {
            if (fields.All(f => f.Key != name))
            {
                fields.Add(new(name, value));
            }
        }

        if (pressButtonValue is not null)
        {
            var button = form.Elements.OfType<IHtmlButtonElement>().First(b => b.Value == pressButtonValue);
            fields.Add(new(button.Name!, button.Value));
        }

        var action = string.IsNullOrEmpty(form.GetAttribute("action")) ? requestPath ?? page.RequestMessage!.RequestUri!.PathAndQuery : form.GetAttribute("action")!;
        var response = await _http.PostAsync(new Uri(BaseAddress, action), new FormUrlEncodedContent(fields));
        return await FollowAsync(response);
    }

    public void Dispose() => _http.Dispose();
}
