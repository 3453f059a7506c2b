using Microsoft.Extensions.Primitives;

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

    public static async Task<OAuthParameters> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (HttpMethods.IsGet(request.Method))
        {
            return From(request.Query);
        }

        if (!request.HasFormContentType)
        {
            return new OAuthParameters(new Dictionary<string, StringValues>(), duplicate: null) { NotAForm = true };
        }

        var form = await request.ReadFormAsync(cancellationToken);
        return From(form);
    }

    /// <summary>True when a POST did not carry application/x-www-form-urlencoded (RFC 6749 §3.2).</summary>
    public bool NotAForm { get; private init; }

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
