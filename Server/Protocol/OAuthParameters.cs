using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace IdentityServer.Protocol;

/// <summary>
/// The parameters of a protocol request, from the query (GET) or a form body (POST). RFC 6749 §3.1 and §3.2:
/// parameters sent without a value are treated as omitted, and a parameter MUST NOT appear more than once
/// (except <c>resource</c>, which RFC 8707 §2 allows repeated).
/// </summary>
public sealed class OAuthParameters
{
    private readonly Dictionary<string, StringValues> _values;

    private OAuthParameters(Dictionary<string, StringValues> values, string? duplicate)
    {
        _values = values;
        Duplicate = duplicate;
    }

    /// <summary>The first parameter that appeared more than once, if any.</summary>
    public string? Duplicate { get; }

    public string? this[string name] =>
        _values.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value) && value.Count == 1 && value[0]!.Length > 0 ? value[0] : null;

    public IReadOnlyList<string> All(string name) =>
        _values.TryGetValue(name, out var value) ? value.Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToList() : [];

    public IEnumerable<KeyValuePair<string, StringValues>> Pairs => _values;

    /// <summary>Reads the request's parameters once; later calls in the same request (the rate limiter's, the endpoint's) get the same.</summary>
    public static async Task<OAuthParameters> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.HttpContext.Items.TryGetValue(typeof(OAuthParameters), out var read) && read is OAuthParameters parameters)
        {
            return parameters;
        }

        parameters = await ParseAsync(request, cancellationToken);
        request.HttpContext.Items[typeof(OAuthParameters)] = parameters;
        return parameters;
    }

    private static async Task<OAuthParameters> ParseAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (HttpMethods.IsGet(request.Method))
        {
            return From(request.Query);
        }

        if (!IsUrlEncodedForm(request))
        {
            return new OAuthParameters(new Dictionary<string, StringValues>(), duplicate: null) { FormProblem = "The request must be application/x-www-form-urlencoded." };
        }

        try
        {
            var form = await request.ReadFormAsync(cancellationToken);
            return From(form);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            // Past the form limits (too many fields, a key or value too long, a body too large) or not decodable: a 400
            // like any other request this server cannot read, never a 500.
            return new OAuthParameters(new Dictionary<string, StringValues>(), duplicate: null) { FormProblem = "The form body is malformed or too large." };
        }
    }

    /// <summary>
    /// Whether the body is application/x-www-form-urlencoded, the one format RFC 6749 (§3.2, §4.1.3), RFC 7009 §2.1,
    /// RFC 7662 §2.1, RFC 6750 §2.2 and OpenID Connect Core §3.1.2.1 give these requests. ASP.NET Core also reads
    /// multipart/form-data as a form; OAuth does not.
    /// </summary>
    public static bool IsUrlEncodedForm(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && type.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when a POST did not carry a readable application/x-www-form-urlencoded body (RFC 6749 §3.2).</summary>
    public bool NotAForm => FormProblem is not null;

    /// <summary>Why the POST body could not be taken as the request's parameters, for error_description; null when it could.</summary>
    public string? FormProblem { get; private init; }

    public static OAuthParameters From(IEnumerable<KeyValuePair<string, StringValues>> source)
    {
        var values = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        string? duplicate = null;
        foreach (var (name, value) in source)
        {
            values[name] = value;
            if (value.Count > 1 && name != "resource")
            {
                duplicate ??= name;
            }
        }

        return new OAuthParameters(values, duplicate);
    }
}
