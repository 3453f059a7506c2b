using IdentityServer.Accounts;
using IdentityServer.Data;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol;

/// <summary>
/// Issues an authorization code. Each code starts a new token family: an ad-hoc authorization that its refresh tokens
/// will hang off, so a replayed code or a reused refresh token revokes exactly that family, nothing else. Both rows are
/// written in one transaction: nothing half-written.
/// </summary>
public sealed class AuthorizationCodeIssuer(GrantStore grants, TokenOptions options)
{
    public async Task<string?> IssueAsync(AuthorizationRequest request, SignInSession session, CancellationToken cancellationToken)
    {
        var user = await grants.FindUserAsync(session.Subject, cancellationToken);
        if (user is null)
        {
            return null;
        }

        var lifetimes = TokenLifetimes.For(request.Client, options);
        var now = grants.Now;
        var family = new OAuthAuthorization
        {
            ApplicationId = request.Client.Id,
            Subject = session.Subject,
            Status = Statuses.Valid,
            Type = AuthorizationTypes.AdHoc,
            Scopes = string.Join(' ', request.Scopes),
            SessionId = session.SessionId,
            CreationDate = now,
            ExpirationDate = now + lifetimes.RefreshTokenAbsolute,
        };

        var payload = new GrantPayload
        {
            Scopes = [.. request.Scopes],
            Resources = [.. request.Resources],
            AuthTime = session.AuthTime.ToUnixTimeSeconds(),
            SessionId = session.SessionId,
            Claims = UserClaimsReader.For(user, request.Scopes),
            RedirectUri = request.RedirectUriProvided ? request.RedirectUri : null,
            CodeChallenge = request.CodeChallenge,
            Nonce = request.Nonce,
        };
        var code = grants.NewToken(TokenTypes.AuthorizationCode, request.Client.Id, family.Id, session.Subject, payload, now + lifetimes.AuthorizationCode);
        await grants.AddGrantWithTokenAsync(family, code.Token, cancellationToken);
        return code.Value;
    }
}
