using System.Text.Json;
using IdentityServer.Clients;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace IdentityServer.Protocol;

/// <summary>Reading a JSON body and answering an error in the RFC 7591 §3.2.2 shape; the admin API reads its bodies the same way.</summary>
internal static class RegistrationJson
{
    /// <summary>
    /// The JSON body, or the RFC 7591-shaped 400 to answer instead: not JSON, malformed, not an object, wrong types, a
    /// <c>null</c> inside an array or a nested object (named by its path: it would otherwise be stored as an empty value),
    /// and, when <paramref name="knownFieldsOf"/> is given, a field that type does not have. A <c>null</c> top-level field
    /// means the field is left out. RFC 7591 §2 has registration ignore metadata it does not understand, so only the admin
    /// API refuses unknown fields.
    /// </summary>
    public static async Task<(T? Body, IResult? Error)> ReadAsync<T>(HttpRequest request, bool optional = false, Type? knownFieldsOf = null)
        where T : class, new()
    {
        if (optional && request.ContentLength is null or 0 && !request.HasJsonContentType())
        {
            return (new T(), null);
        }

        if (!request.HasJsonContentType())
        {
            return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "The body must be application/json."));
        }

        var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, default, request.HttpContext.RequestAborted);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return document.RootElement.ValueKind == JsonValueKind.Null
                    ? (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "The body must be a JSON object."))
                    : (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidClientMetadata, "The body must be a JSON object of client metadata."));
            }

            if (NullInside(document.RootElement, "", topLevel: true) is { } nullPath)
            {
                return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidClientMetadata,
                    $"{nullPath} is null; give a value or leave the field out."));
            }

            if (knownFieldsOf is not null && UnknownField(document.RootElement, options, typeof(T), knownFieldsOf) is { } unknown)
            {
                return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidClientMetadata, $"Unknown field '{Shorten(unknown)}'."));
            }

            return (document.RootElement.Deserialize<T>(options) ?? new T(), null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException { InnerException: System.Text.DecoderFallbackException })
        {
            // Malformed, of the wrong types, or not UTF-8 (found when a name or string is read).
            var where = e is JsonException { Path: { Length: > 1 } path } ? $" at {path}" : "";
            return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidClientMetadata, $"The body is not valid JSON for this request{where}."));
        }
    }

    /// <summary>The path of the first null in an array or a nested object, or null when there is none.</summary>
    private static string? NullInside(JsonElement element, string path, bool topLevel)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                var childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (property.Value.ValueKind == JsonValueKind.Null)
                {
                    if (!topLevel)
                    {
                        return Shorten(childPath);
                    }
                }
                else if (NullInside(property.Value, childPath, topLevel: false) is { } inner)
                {
                    return inner;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                var itemPath = $"{path}[{index++}]";
                if (item.ValueKind == JsonValueKind.Null)
                {
                    return Shorten(itemPath);
                }

                if (NullInside(item, itemPath, topLevel: false) is { } inner)
                {
                    return inner;
                }
            }
        }

        return null;
    }

    /// <summary>The first top-level field that neither the request type nor <paramref name="alsoKnown"/> (its answer, sent back) has.</summary>
    private static string? UnknownField(JsonElement body, JsonSerializerOptions options, Type requestType, Type alsoKnown)
    {
        var known = options.GetTypeInfo(requestType).Properties.Select(p => p.Name)
            .Concat(options.GetTypeInfo(alsoKnown).Properties.Select(p => p.Name))
            .ToHashSet(StringComparer.Ordinal);
        return body.EnumerateObject().Select(p => p.Name).FirstOrDefault(name => !known.Contains(name));
    }

    private static string Shorten(string value) => value.Length > 100 ? value[..100] + "..." : value;

    public static IResult Error(int status, string error, string description) => TypedResults.Json(new ErrorResponse(error, description), statusCode: status);
}
