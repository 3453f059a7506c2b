using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// The OAuth handlers' <c>OnRemoteFailure</c>: whatever went wrong upstream (the person cancelled, the provider
/// returned an error, the state was tampered with, the provider was unreachable or answered nonsense), the person
/// lands on a friendly page with a way back instead of an exception. Nothing was signed in and no user was created:
/// users are only created after the handler succeeded, on the callback page.
/// </summary>
public static class ExternalFailure
{
    public const string ErrorPage = "/account/external-error";

    /// <summary>The authentication property holding the local URL the error page offers as the way back.</summary>
    public const string BackItem = "back";

    /// <summary>The framework's failure text when the correlation cookie is missing or wrong (RFC 6749 §10.12).</summary>
    private const string CorrelationFailed = "Correlation failed.";

    public static Task HandleAsync(RemoteFailureContext context)
    {
        // The handler passes no properties when an exception ended the flow (the code exchange or the user information
        // failed); the state in the query still holds them, if it is ours and intact.
        var properties = context.Properties ?? (context.Options as OAuthOptions)?.StateDataFormat.Unprotect(context.Request.Query["state"]);
        var reason = Classify(context, properties);
        var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ExternalFailure).FullName!);
        logger.LogWarning("Sign-in with {Provider} failed: {Reason} ({Message})", context.Scheme.Name, reason, context.Failure?.Message);
        string? back = null;
        properties?.Items.TryGetValue(BackItem, out back);
        context.Response.Redirect(ErrorUrl(reason, context.Scheme.Name, back));
        context.HandleResponse();
        return Task.CompletedTask;
    }

    public static string ErrorUrl(ExternalFailureReason reason, string? provider, string? back)
    {
        var query = new Dictionary<string, string?> { ["reason"] = reason.ToString() };
        if (provider is not null)
        {
            query["provider"] = provider;
        }

        if (back is not null)
        {
            query["back"] = back;
        }

        return QueryHelpers.AddQueryString(ErrorPage, query);
    }

    /// <summary>In the order the handler checks: state, correlation, the provider's error, then the exchange and user info.</summary>
    private static ExternalFailureReason Classify(RemoteFailureContext context, AuthenticationProperties? properties)
    {
        if (properties is null || context.Failure?.Message == CorrelationFailed)
        {
            return ExternalFailureReason.InvalidState;
        }

        // RFC 6749 §4.1.2.1: access_denied means the resource owner (or the provider) said no.
        var error = context.Request.Query["error"].ToString();
        if (error.Length > 0)
        {
            return error == "access_denied" ? ExternalFailureReason.Cancelled : ExternalFailureReason.ProviderError;
        }

        for (var failure = context.Failure; failure is not null; failure = failure.InnerException)
        {
            if (failure is ExternalProviderException known)
            {
                return known.Reason;
            }

            // The Google handler fetches the userinfo itself: an error status there is an HttpRequestException that
            // carries no transport error (no HttpRequestError, no inner exception), and a body that is not JSON a JsonException.
            if (failure is HttpRequestException { HttpRequestError: HttpRequestError.Unknown, StatusCode: null, InnerException: null })
            {
                return ExternalFailureReason.ProviderError;
            }

            if (failure is JsonException)
            {
                return ExternalFailureReason.Malformed;
            }

            if (failure is HttpRequestException or TaskCanceledException or TimeoutException)
            {
                return ExternalFailureReason.Unreachable;
            }
        }

        return ExternalFailureReason.ProviderError;
    }
}
