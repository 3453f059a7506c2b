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
            // §2: the hint is one of our ID tokens; its signature must verify, but it may have expired.
            var result = await _handler.ValidateTokenAsync(hint, new TokenValidationParameters
            {
                ValidIssuer = protocol.Issuer,
                IssuerSigningKeys = keys.VerificationKeys.ToList(),
                ValidateAudience = false,
                ValidateLifetime = false,
                RequireSignedTokens = true,
            });
            if (!result.IsValid || result.SecurityToken is not JsonWebToken idToken || idToken.Typ == TokenIssuer.AccessTokenType)
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

    /// <summary>Logout proceeds without asking only when the hint names the signed-in person (§2: otherwise confirm).</summary>
    public static bool NeedsConfirmation(EndSessionRequest request, SignInSession? session) =>
        session is not null && (request.HintSubject is null || request.HintSubject != session.Subject);

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
