using System.Security.Cryptography;
using System.Text;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol.PushedAuthorization;

/// <summary>A pushed request an authorization request used: which row, by which request_uri, and since when this browser holds it.</summary>
public sealed record PushedAuthorizationReference(string Id, string RequestUri, DateTimeOffset ClaimedAt);

/// <summary>The parameters an authorization request stands for, or why it cannot go on (in words for the person).</summary>
public sealed record ResolvedAuthorizationParameters(OAuthParameters Parameters, PushedAuthorizationReference? Pushed, string? PageError);

/// <summary>
/// Turns an authorization request with request_uri into the request the client pushed (RFC 9126 §4): client_id and
/// request_uri, the other parameters ignored. The first /authorize that brings a request_uri claims it for its browser
/// (a random value in a cookie, its hash on the row), since the person may need several round trips (sign-in, consent)
/// before a code is issued; any other browser, or a second first use, finds it already used. A request without a
/// pushed request's request_uri passes through unchanged.
/// </summary>
public sealed class PushedRequestResolver(PushedRequests store, PushedAuthorizationOptions options, TimeProvider time, ILogger<PushedRequestResolver> logger)
{
    private const string CookiePrefix = "par-";
    /// <summary>For the second of two approvals of one pushed request that raced to issue its code.</summary>
    public const string AlreadyAnswered = "This authorization request was already answered. Please start again from the application.";

    private const string NotUsable = "The authorization request has expired or was already used. Please start again from the application.";

    public async Task<ResolvedAuthorizationParameters> ResolveAsync(HttpContext context, OAuthParameters parameters, CancellationToken cancellationToken)
    {
        // Only our own URNs name pushed requests; any other request_uri (a request object by reference, OpenID Connect
        // Core §6.2) goes on to the validator, which answers request_uri_not_supported.
        if (parameters["request_uri"] is not { } requestUri || !requestUri.StartsWith(PushedRequests.UriPrefix, StringComparison.Ordinal))
        {
            return new ResolvedAuthorizationParameters(parameters, null, null);
        }

        // RFC 9126 §4: client_id is still sent, and must be the client that pushed the request. Phase-1 errors: without
        // the pushed request there is no trusted redirect_uri, so they are shown, never redirected (RFC 6749 §4.1.2.1).
        if (parameters.Duplicate is "client_id" or "request_uri")
        {
            return Page(parameters, $"The request repeats the {parameters.Duplicate} parameter.");
        }

        if (parameters["client_id"] is not { } clientId)
        {
            return Page(parameters, "The request has no client_id.");
        }

        var row = await store.FindAsync(requestUri, cancellationToken);
        if (row is null || row.ClientId != clientId)
        {
            logger.LogWarning("Pushed authorization request refused: {Reason} (client {ClientId})",
                row is null ? "request_uri unknown, expired or used" : "request_uri of another client", Truncate(clientId));
            return Page(parameters, NotUsable);
        }

        var cookie = CookiePrefix + row.ReferenceId[..16];
        DateTimeOffset claimedAt;
        if (row.ClaimedAt is null)
        {
            var (binding, bindingHash) = OpaqueToken.Create();
            if (!await store.TryClaimAsync(row.Id, bindingHash, cancellationToken))
            {
                logger.LogWarning("Pushed authorization request refused: {Reason} (client {ClientId})", "request_uri claimed by a concurrent request", clientId);
                return Page(parameters, NotUsable);
            }

            context.Response.Cookies.Append(cookie, binding, new CookieOptions
            {
                HttpOnly = true,
                Secure = context.Request.IsHttps,
                // Lax: the sign-in and consent pages send the person back here with a top-level GET.
                SameSite = SameSiteMode.Lax,
                Path = "/",
                MaxAge = options.InteractionLifetime,
                IsEssential = true,
            });
            claimedAt = time.GetUtcNow();
        }
        else
        {
            // RFC 9126 §4: single use. After the claim only the browser that claimed it continues it.
            var presented = context.Request.Cookies[cookie];
            if (presented is null || row.BindingHash is null || !OpaqueToken.IsWellFormed(presented)
                || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(OpaqueToken.Hash(presented)), Encoding.ASCII.GetBytes(row.BindingHash)))
            {
                logger.LogWarning("Pushed authorization request refused: {Reason} (client {ClientId})", "request_uri already used by another browser", clientId);
                return Page(parameters, NotUsable);
            }

            claimedAt = new DateTimeOffset(DateTime.SpecifyKind(row.ClaimedAt.Value, DateTimeKind.Utc));
        }

        var pushed = PushedRequests.ReadParameters(row);
        // The one parameter of ours that the consent page adds on the way back: the person's refusal.
        if (parameters[AuthorizeEndpoint.ConsentDeniedParameter] is { } denied)
        {
            pushed[AuthorizeEndpoint.ConsentDeniedParameter] = denied;
        }

        return new ResolvedAuthorizationParameters(OAuthParameters.From(pushed), new PushedAuthorizationReference(row.Id, requestUri, claimedAt), null);
    }

    /// <summary>
    /// Ends a pushed request as its code is about to be issued: true for a request sent through the browser, and for the
    /// one approval of a pushed request that deletes it; false for any other (RFC 9126 §4, one authorization per push).
    /// </summary>
    public async Task<bool> TryCompleteAsync(AuthorizationRequest request, CancellationToken cancellationToken) =>
        request.Pushed is not { } pushed || await store.TryCompleteAsync(pushed.Id, cancellationToken);

    /// <summary>
    /// Whether the person signed in after this browser brought the pushed request (a session's auth_time has whole
    /// seconds), which satisfies its prompt=login, select_account and max_age.
    /// </summary>
    public static bool SignedInSinceClaim(AuthorizationRequest request, Accounts.SignInSession session) =>
        request.Pushed is { } pushed && session.AuthTime.ToUnixTimeSeconds() >= pushed.ClaimedAt.ToUnixTimeSeconds();

    private static ResolvedAuthorizationParameters Page(OAuthParameters parameters, string error) => new(parameters, null, error);

    private static string Truncate(string value) => value.Length > 100 ? value[..100] : value;
}
