using System.Diagnostics.CodeAnalysis;
using IdentityServer.Accounts;
using IdentityServer.Clients;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Protocol.Authorization;

/// <summary>
/// An authorization request a page continues (the consent page): the authorization endpoint sent the person there with
/// the request as a return URL. Exactly one of three: <see cref="Error"/> (the request cannot continue),
/// <see cref="SignInUrl"/> (no session: sign in first, then the request starts again), or ready
/// (<see cref="Request"/>, <see cref="Session"/>, <see cref="Scopes"/>).
/// </summary>
public sealed class PendingAuthorization
{
    /// <summary>Why the request cannot continue, in words for the person.</summary>
    public string? Error { get; private init; }

    /// <summary>Where to send a person who is not signed in.</summary>
    public string? SignInUrl { get; private init; }

    public AuthorizationRequest? Request { get; private init; }
    public SignInSession? Session { get; private init; }

    /// <summary>The requested scopes as the catalog describes them, in the request's order.</summary>
    public IReadOnlyList<ScopeDescriptor> Scopes { get; private init; } = [];

    /// <summary>The authorization request to go back to (the return URL as given, checked local and well-formed).</summary>
    public string ReturnUrl { get; private init; } = "";

    [MemberNotNullWhen(true, nameof(Request), nameof(Session))]
    public bool IsReady => Request is not null;

    /// <summary>The authorization request again, marked as refused by the person: it ends in access_denied to the client.</summary>
    public string DeniedUrl => AuthorizationResponse.AppendQuery(ReturnUrl,
        [new(AuthorizeEndpoint.ConsentDeniedParameter, AuthorizeEndpoint.ConsentDeniedValue)]);

    internal static PendingAuthorization Invalid(string error) => new() { Error = error };

    internal static PendingAuthorization NeedsSignIn(string returnUrl) =>
        new() { SignInUrl = "/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl), ReturnUrl = returnUrl };

    internal static PendingAuthorization Ready(string returnUrl, AuthorizationRequest request, SignInSession session, IReadOnlyList<ScopeDescriptor> scopes) =>
        new() { ReturnUrl = returnUrl, Request = request, Session = session, Scopes = scopes };
}

/// <summary>
/// The one way pages read a pending authorization request: the return URL is parsed once and validated by the same
/// steps as /authorize itself (<see cref="AuthorizationRequestValidator"/>), never trusted as it arrived.
/// </summary>
public sealed class PendingAuthorizationReader(AuthorizationRequestValidator validator, ScopeCatalog scopeCatalog)
{
    private const string Prefix = EndpointPaths.Authorize + "?";
    private const string NotValid = "The consent request is not valid.";

    /// <summary>
    /// Checks that <paramref name="returnUrl"/> is a local /authorize URL, then that the person is signed in, then
    /// validates the request (in that order: without a session nothing else is looked at).
    /// </summary>
    public async Task<PendingAuthorization> ReadAsync(HttpContext context, string? returnUrl)
    {
        if (!IsLocalAuthorizeUrl(returnUrl))
        {
            return PendingAuthorization.Invalid(NotValid);
        }

        var authentication = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var session = authentication.Succeeded ? SignInSession.From(authentication.Principal) : null;
        if (session is null)
        {
            return PendingAuthorization.NeedsSignIn(returnUrl);
        }

        var parameters = OAuthParameters.From(QueryHelpers.ParseQuery(returnUrl[Prefix.Length..]));
        var resolved = await context.RequestServices.GetRequiredService<PushedAuthorization.PushedRequestResolver>()
            .ResolveAsync(context, parameters, context.RequestAborted);
        if (resolved.PageError is not null)
        {
            return PendingAuthorization.Invalid(resolved.PageError);
        }

        var validation = await validator.ValidateAsync(resolved.Parameters, context.RequestAborted, resolved.Pushed);
        if (validation.Request is not { } request)
        {
            return PendingAuthorization.Invalid(validation.PageError ?? validation.ClientError?.Description ?? NotValid);
        }

        var catalog = await scopeCatalog.GetAllAsync(context.RequestAborted);
        var scopes = new ScopeDescriptor[request.Scopes.Count];
        for (var i = 0; i < scopes.Length; i++)
        {
            scopes[i] = catalog[request.Scopes[i]];
        }

        return PendingAuthorization.Ready(returnUrl, request, session, scopes);
    }

    /// <summary>
    /// "/connect/authorize?..." and local in the sense of IUrlHelper.IsLocalUrl, which for a URL with this prefix means
    /// no control characters (so LocalRedirect will follow it).
    /// </summary>
    private static bool IsLocalAuthorizeUrl([NotNullWhen(true)] string? returnUrl)
    {
        if (returnUrl is null || !returnUrl.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in returnUrl)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// Answers a pending request the person has just allowed on the consent page: the code is issued here, for this request,
/// rather than on a second trip through /authorize, where remembered consent does not count for a public client (RFC
/// 8252 §8.6) and the person would be asked again. Anything the endpoint would decide differently now (the session is
/// older than max_age, the request carries the refusal marker, the account is gone) goes back to /authorize instead.
/// </summary>
public sealed class PendingAuthorizationApproval(AuthorizationCodeIssuer codes, PushedAuthorization.PushedRequestResolver pushedRequests,
    ServerOptions protocol, TimeProvider time)
{
    public async Task<IResult> ApproveAsync(PendingAuthorization pending, CancellationToken cancellationToken)
    {
        if (!pending.IsReady)
        {
            throw new InvalidOperationException("Only a ready authorization request can be approved.");
        }

        var request = pending.Request;
        if (request.Parameters[AuthorizeEndpoint.ConsentDeniedParameter] is not null
            || AuthorizeEndpoint.NeedsSignIn(request, pending.Session, time.GetUtcNow()))
        {
            return Results.LocalRedirect(pending.ReturnUrl);
        }

        if (!await pushedRequests.TryCompleteAsync(request, cancellationToken))
        {
            // Another approval of the same pushed request won; /authorize explains that it is used up.
            return Results.LocalRedirect(pending.ReturnUrl);
        }

        var code = await codes.IssueAsync(request, pending.Session, cancellationToken);
        return code is null
            ? Results.LocalRedirect(pending.ReturnUrl)
            : AuthorizationResponse.Success(request, protocol.Issuer, code);
    }
}
