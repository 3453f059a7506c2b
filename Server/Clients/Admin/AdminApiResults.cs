using System.Text.Json;

namespace IdentityServer.Clients.Admin;

/// <summary>Reading bodies and writing answers the same way on every admin API endpoint.</summary>
internal static class AdminApiResults
{
    /// <summary>The JSON body, or the RFC 7591-shaped 400 to answer instead (not JSON, malformed, wrong types).</summary>
    public static async Task<(T? Body, IResult? Error)> ReadJsonAsync<T>(HttpRequest request, bool optional = false) where T : class, new()
    {
        if (optional && request.ContentLength is null or 0 && !request.HasJsonContentType())
        {
            return (new T(), null);
        }

        if (!request.HasJsonContentType())
        {
            return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "The body must be application/json."));
        }

        try
        {
            var body = await request.ReadFromJsonAsync<T>(request.HttpContext.RequestAborted);
            return body is null
                ? (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "The body must be a JSON object."))
                : (body, null);
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 1 } path ? $" at {path}" : "";
            return (null, Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidClientMetadata, $"The body is not valid JSON for this request{where}."));
        }
    }

    /// <summary>Ok via <paramref name="ok"/>; NotFound 404; Invalid 400; Conflict 409; errors in the RFC 7591 §3.2.2 shape.</summary>
    public static IResult From<T>(AdminResult<T> result, Func<T, IResult> ok, string notFound)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(ok);
        return result.Outcome switch
        {
            AdminOutcome.Ok => ok(result.Value!),
            AdminOutcome.NotFound => NotFound(notFound),
            AdminOutcome.Conflict => TypedResults.Conflict(ErrorResponse.From(result.Error!)),
            _ => TypedResults.BadRequest(ErrorResponse.From(result.Error!)),
        };
    }

    public static IResult NotFound(string what) => Error(StatusCodes.Status404NotFound, "not_found", what);

    public static IResult Error(int status, string error, string description) => TypedResults.Json(new ErrorResponse(error, description), statusCode: status);
}
