using System.Buffers;
using System.Text.Json;

namespace IdentityServer.Protocol;

/// <summary>Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 8707 §2 and OpenID Connect Core §3.1.2.6.</summary>
public static class OAuthErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidClient = "invalid_client";
    public const string InvalidGrant = "invalid_grant";
    public const string UnauthorizedClient = "unauthorized_client";
    public const string UnsupportedGrantType = "unsupported_grant_type";
    public const string UnsupportedResponseType = "unsupported_response_type";
    public const string UnsupportedTokenType = "unsupported_token_type";
    public const string InvalidScope = "invalid_scope";
    public const string InvalidTarget = "invalid_target";
    public const string AccessDenied = "access_denied";
    public const string ServerError = "server_error";
    public const string TemporarilyUnavailable = "temporarily_unavailable";
    public const string LoginRequired = "login_required";
    public const string ConsentRequired = "consent_required";
    public const string InteractionRequired = "interaction_required";
    public const string RequestNotSupported = "request_not_supported";
    public const string RequestUriNotSupported = "request_uri_not_supported";
    public const string InvalidToken = "invalid_token";
    public const string InsufficientScope = "insufficient_scope";
}

/// <summary>A protocol error on its way to the client.</summary>
public sealed record OAuthError(string Error, string? Description = null, int StatusCode = StatusCodes.Status400BadRequest)
{
    /// <summary>RFC 6749 §5.2 JSON body. Token-endpoint answers are never cached (§5.1).</summary>
    public IResult ToJson(string? wwwAuthenticate = null) => new OAuthJsonResult(StatusCode, WriteBody, wwwAuthenticate);

    private void WriteBody(Utf8JsonWriter json)
    {
        json.WriteString("error", Error);
        if (Description is not null)
        {
            json.WriteString("error_description", Description);
        }
    }
}

/// <summary>A JSON answer from a protocol endpoint, written straight to UTF-8, with Cache-Control: no-store.</summary>
public sealed class OAuthJsonResult(int statusCode, Action<Utf8JsonWriter> writeBody, string? wwwAuthenticate = null) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => statusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json;charset=UTF-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        if (wwwAuthenticate is not null)
        {
            response.Headers.WWWAuthenticate = wwwAuthenticate;
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            writeBody(json);
            json.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted);
    }
}
