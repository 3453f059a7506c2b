using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;

namespace IdentityServer.Protocol;

/// <summary>
/// Sends an authorization response back to the client's redirect_uri (query or form_post), always with <c>iss</c>
/// (RFC 9207 §2) and the client's <c>state</c>; or shows a person an error page when there is nowhere safe to send it.
/// </summary>
public static class AuthorizationResponse
{
    private const string AutoSubmitScript = "document.forms[0].submit();";
    private static readonly string AutoSubmitHash = "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(AutoSubmitScript))) + "'";

    public static IResult Success(AuthorizationRequest request, string issuer, string code) =>
        Send(request, issuer, [new("code", code)]);

    public static IResult Error(AuthorizationRequest request, string issuer, OAuthError error)
    {
        var values = new List<KeyValuePair<string, string>> { new("error", error.Error) };
        if (error.Description is not null)
        {
            values.Add(new("error_description", error.Description));
        }

        return Send(request, issuer, values);
    }

    private static IResult Send(AuthorizationRequest request, string issuer, List<KeyValuePair<string, string>> values)
    {
        if (request.State is not null)
        {
            values.Add(new("state", request.State));
        }

        values.Add(new("iss", issuer));
        return request.ResponseMode switch
        {
            ResponseModes.FormPost => new HtmlResult(StatusCodes.Status200OK, FormPostPage(request.RedirectUri, values),
                $"default-src 'none'; script-src {AutoSubmitHash}; style-src 'self'; base-uri 'none'; frame-ancestors 'none'"),
            // A registered redirect URI has no fragment (RFC 6749 §3.1.2), so the parameters are the whole fragment.
            ResponseModes.Fragment => Results.Redirect(request.RedirectUri + "#" + Encode(values)),
            _ => Results.Redirect(AppendQuery(request.RedirectUri, values)),
        };
    }

    /// <summary>Parameters in application/x-www-form-urlencoded form, as both the query and the fragment carry them.</summary>
    private static string Encode(IEnumerable<KeyValuePair<string, string>> values) =>
        string.Join('&', values.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));

    /// <summary>Adds parameters to a redirect URI that may already have a query (RFC 6749 §3.1.2: it must be kept).</summary>
    public static string AppendQuery(string uri, IEnumerable<KeyValuePair<string, string>> values)
    {
        var encoded = Encode(values);
        if (encoded.Length == 0)
        {
            return uri;
        }

        var separator = uri.EndsWith('?') || uri.EndsWith('&') ? "" : uri.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        return uri + separator + encoded;
    }

    private static string FormPostPage(string action, IEnumerable<KeyValuePair<string, string>> values)
    {
        var html = HtmlEncoder.Default;
        var page = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Continue</title><link rel=\"stylesheet\" href=\"/site.css\"></head><body>")
            .Append(CultureInfo.InvariantCulture, $"<form method=\"post\" action=\"{html.Encode(action)}\">");
        foreach (var (name, value) in values)
        {
            page.Append(CultureInfo.InvariantCulture, $"<input type=\"hidden\" name=\"{html.Encode(name)}\" value=\"{html.Encode(value)}\">");
        }

        return page.Append("<noscript><p>JavaScript is off: press the button to continue.</p><button type=\"submit\">Continue</button></noscript></form>")
            .Append(CultureInfo.InvariantCulture, $"<script>{AutoSubmitScript}</script></body></html>")
            .ToString();
    }

    /// <summary>An error shown to the person: the request cannot be trusted enough to send them back to the client.</summary>
    public static IResult ErrorPage(string message, string correlationId, string title = "This sign-in request cannot be completed")
    {
        var html = HtmlEncoder.Default;
        var page = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error</title>"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/site.css\"></head>"
            + $"<body><main class=\"card\"><h1>{html.Encode(title)}</h1>"
            + $"<p>{html.Encode(message)}</p><p>Go back to the application and try again. If this keeps happening, tell its support team this reference: <code>{html.Encode(correlationId)}</code>.</p>"
            + "</main></body></html>";
        return new HtmlResult(StatusCodes.Status400BadRequest, page, "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    }
}

/// <summary>An HTML answer with its own Content-Security-Policy; never cached.</summary>
public sealed class HtmlResult(int statusCode, string html, string contentSecurityPolicy) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        response.Headers.ContentSecurityPolicy = contentSecurityPolicy;
        return response.WriteAsync(html, httpContext.RequestAborted);
    }
}
