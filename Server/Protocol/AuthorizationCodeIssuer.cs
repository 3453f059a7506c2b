using IdentityServer.Accounts;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol;

/// <summary>
/// Answers a validated authorization request with a code (RFC 6749 §4.1.2): what the code stands for (the request's
/// redirect_uri, PKCE challenge and nonce, the person's claims as of this sign-in) goes into its payload, and the token
/// lifecycle starts a new family with it.
/// </summary>
public sealed class AuthorizationCodeIssuer(UserClaimsReader users, TokenFamilies families)
{
    /// <summary>The code's opaque value; null when the signed-in account no longer exists.</summary>
    public async Task<string?> IssueAsync(AuthorizationRequest request, SignInSession session, CancellationToken cancellationToken)
    {
        // The user read and the code's insert share one connection.
        await using var connection = await families.HoldConnectionAsync(cancellationToken);
        var claims = await users.ReadAsync(session.Subject, request.Scopes, cancellationToken);
        if (claims is null)
        {
            return null;
        }

        var payload = new GrantPayload
        {
            Scopes = [.. request.Scopes],
            Resources = [.. request.Resources],
            AuthTime = session.AuthTime.ToUnixTimeSeconds(),
            SessionId = session.SessionId,
            Amr = [.. session.Methods],
            Acr = session.Level,
            Claims = claims,
            // §4.1.3: the token request must then repeat it exactly.
            RedirectUri = request.RedirectUriProvided ? request.RedirectUri : null,
            CodeChallenge = request.CodeChallenge,
            Nonce = request.Nonce,
            // RFC 9449 §10: the code is then redeemed only with a DPoP proof of this key.
            DpopJkt = request.Parameters["dpop_jkt"],
        };
        return await families.IssueCodeAsync(request.Client, new CodeIssue(session.Subject, session.SessionId, request.Scopes, payload), cancellationToken);
    }
}
