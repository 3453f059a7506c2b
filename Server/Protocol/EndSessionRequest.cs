using IdentityServer.Accounts;
using IdentityServer.Accounts.Sessions;
using IdentityServer.Clients;
using IdentityServer.Hosting;
using IdentityServer.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Protocol;

/// <summary>A validated RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 §2).</summary>
public sealed record EndSessionRequest(ClientDescriptor? Client, string? PostLogoutRedirectUri, string? State, string? HintSubject, string? HintSessionId);

/// <summary>
/// Validates logout requests and performs the logout. A post_logout_redirect_uri is followed only when the client is
/// identified (client_id or id_token_hint) and the URI is registered for it, compared exactly (§3); otherwise no redirect.
/// </summary>
public sealed class EndSessionHandler(ClientStore clients, SigningKeyRing keys, ServerOptions protocol, SessionService sessions)
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public async Task<(EndSessionRequest? Request, string? Error)> ValidateAsync(OAuthParameters parameters, CancellationToken cancellationToken)
    {
        if (parameters.Duplicate is { } duplicate)
        {
            return (null, $"The logout request repeats the {duplicate} parameter.");
        }

        string? hintSubject = null, hintSessionId = null, hintAudience = null;
        if (parameters["id_token_hint"] is { } hint)
        {
            // §2: "the OP MUST validate that it was the issuer of the ID Token": our signature and issuer, and an ID token
            // rather than another JWT we sign with the same keys. Only the typ of our ID tokens is accepted, so an access
            // token (at+jwt, RFC 9068 §2.1) or a logout token (logout+jwt, Back-Channel Logout 1.0 §2.4) is refused; a
            // token carrying the logout event is refused whatever its typ. §2: it "SHOULD" be accepted after its exp.
            var result = await _handler.ValidateTokenAsync(hint, new TokenValidationParameters
            {
                ValidIssuer = protocol.Issuer,
                IssuerSigningKeys = keys.VerificationKeys.ToList(),
                ValidTypes = [TokenIssuer.IdentityTokenType],
                ValidateAudience = false,
                ValidateLifetime = false,
                RequireSignedTokens = true,
            });
            if (!result.IsValid || result.SecurityToken is not JsonWebToken idToken || idToken.Typ != TokenIssuer.IdentityTokenType
                || idToken.TryGetPayloadValue<System.Text.Json.JsonElement>("events", out _) || string.IsNullOrEmpty(idToken.Subject))
            {
                return (null, "The id_token_hint is not an ID token issued by this server.");
            }

            hintSubject = idToken.Subject;
            idToken.TryGetPayloadValue<string>(SignInSession.SessionIdClaim, out hintSessionId);
            hintAudience = idToken.Audiences.FirstOrDefault();
        }

        var clientId = parameters["client_id"];
        if (clientId is not null && hintAudience is not null && clientId != hintAudience)
        {
            return (null, "client_id does not match the id_token_hint.");
        }

        clientId ??= hintAudience;
        var client = clientId is { Length: <= 100 } ? await clients.FindAsync(clientId, cancellationToken) : null;
        var redirectUri = parameters["post_logout_redirect_uri"];
        if (redirectUri is not null && (client is not { Enabled: true } || !client.PostLogoutRedirectUris.Contains(redirectUri)))
        {
            return (null, "The post_logout_redirect_uri is not registered for this application.");
        }

        return (new EndSessionRequest(client, redirectUri, parameters["state"], hintSubject, hintSessionId), null);
    }

    /// <summary>
    /// Logout proceeds without asking only when the hint is an ID token of this very session: its sub is the signed-in
    /// person and its sid the current session. §2: the OP "MUST ask the End-User" when no id_token_hint was provided "or
    /// if the supplied ID Token does not belong to the current OP session with the RP and/or currently logged in
    /// End-User"; a hint from an older session (or another browser's) is such a one, and must not end this one silently.
    /// </summary>
    public static bool NeedsConfirmation(EndSessionRequest request, SignInSession? session) =>
        session is not null
        && (request.HintSubject is null || request.HintSubject != session.Subject
            || request.HintSessionId is null || request.HintSessionId != session.SessionId);

    /// <summary>Ends the session and revokes the refresh-token families the client received in it; then where to go.</summary>
    public async Task<IResult> SignOutAsync(HttpContext context, EndSessionRequest request, SignInSession? session)
    {
        if (session is not null)
        {
            await sessions.EndSessionForClientLogoutAsync(session.Subject, session.SessionId, request.Client?.Id, context.RequestAborted);
            await context.SignOutAsync(IdentityConstants.ApplicationScheme);
        }

        if (request.PostLogoutRedirectUri is null)
        {
            return Results.Redirect("/account/logout?signedOut=true");
        }

        return Results.Redirect(request.State is null
            ? request.PostLogoutRedirectUri
            : AuthorizationResponse.AppendQuery(request.PostLogoutRedirectUri, [new("state", request.State)]));
    }

    public static async Task<SignInSession?> CurrentSessionAsync(HttpContext context)
    {
        var authentication = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        return authentication.Succeeded ? SignInSession.From(authentication.Principal) : null;
    }
}
