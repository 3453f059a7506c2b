using IdentityServer.Protocol;

namespace IdentityServer.Admin;

/// <summary>Reading bodies and writing answers the same way on every admin API endpoint.</summary>
internal static class AdminApiResults
{
    /// <summary>
    /// The JSON body, or the RFC 7591-shaped 400 to answer instead (not JSON, malformed, wrong types, a null inside an
    /// array, a field the request does not have). Fields of <paramref name="answerType"/> are accepted and ignored, so a
    /// client read with GET can be sent back with PUT as it is.
    /// </summary>
    public static Task<(T? Body, IResult? Error)> ReadJsonAsync<T>(HttpRequest request, bool optional = false, Type? answerType = null)
        where T : class, new() =>
        RegistrationJson.ReadAsync<T>(request, optional, knownFieldsOf: answerType ?? typeof(T));

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

    public static IResult Error(int status, string error, string description) => RegistrationJson.Error(status, error, description);
}
