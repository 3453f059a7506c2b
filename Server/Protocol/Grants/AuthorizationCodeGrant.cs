using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Protocol.Grants;

/// <summary>
/// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID Connect Core §3.1.3). A code is single use:
/// the redemption is one conditional update, so of two simultaneous requests exactly one wins, and a replay revokes
/// everything the code issued (RFC 6749 §4.1.2).
/// </summary>
public sealed partial class AuthorizationCodeGrant(
    GrantStore grants,
    TokenOptions options,
    AudienceResolver audiences,
    TokenResponseFactory responses,
    ILogger<AuthorizationCodeGrant> logger,
    AuditLog audit) : ITokenGrant
{
    public async Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken)
    {
        var value = parameters["code"];
        if (value is null)
        {
            return Error(OAuthErrors.InvalidRequest, "code is required.");
        }

        var code = await grants.FindTokenAsync(value, cancellationToken);
        if (code is null || code.Type != TokenTypes.AuthorizationCode)
        {
            return InvalidGrant("unknown code", client);
        }

        if (code.ApplicationId != client.Id)
        {
            // Bound to the client it was issued to (§4.1.3). Not treated as replay: the rightful client may still redeem it.
            return InvalidGrant("code issued to another client", client);
        }

        if (code.Status == Statuses.Redeemed)
        {
            return await ReplayAsync(code, client, cancellationToken);
        }

        if (code.Status != Statuses.Valid || code.Authorization?.Status != Statuses.Valid)
        {
            return InvalidGrant("code or its grant revoked", client);
        }

        if (code.ExpirationDate <= grants.Now)
        {
            return InvalidGrant("code expired", client);
        }

        var payload = GrantPayload.Deserialize(code.Payload);
        var redirectUri = parameters["redirect_uri"];
        if (payload.RedirectUri is not null ? redirectUri != payload.RedirectUri : redirectUri is not null && !client.RedirectUris.Contains(redirectUri))
        {
            // §4.1.3: identical to the redirect_uri of the authorization request.
            return InvalidGrant("redirect_uri mismatch", client);
        }

        if (!VerifierMatches(parameters["code_verifier"], payload.CodeChallenge))
        {
            return InvalidGrant("PKCE verification failed", client);
        }

        var resources = parameters.All("resource");
        if (resources.Count > 0 && payload.Resources.Length > 0 && resources.Any(r => !payload.Resources.Contains(r)))
        {
            return Error(OAuthErrors.InvalidTarget, "The resource was not part of the authorization request.");
        }

        var audienceResult = await audiences.ResolveAsync(client, payload.Scopes, resources.Count > 0 ? resources : payload.Resources, cancellationToken);
        if (audienceResult.Error is not null)
        {
            return Error(OAuthErrors.InvalidTarget, audienceResult.Error);
        }

        var refreshToken = await RedeemAsync(code, client, payload, cancellationToken);
        if (refreshToken is null)
        {
            return await ReplayAsync(code, client, cancellationToken);
        }

        return responses.Create(new GrantOutcome(client, code.Subject, payload.Scopes, audienceResult.Audiences, code.AuthorizationId,
            payload, payload.Nonce, refreshToken.Length == 0 ? null : refreshToken));
    }

    /// <summary>Marks the code redeemed and stores the first refresh token of the family, atomically. Null: lost the race.</summary>
    private async Task<string?> RedeemAsync(OAuthToken code, ClientDescriptor client, GrantPayload payload, CancellationToken cancellationToken)
    {
        (OAuthToken Token, string Value)? refreshToken = null;
        if (payload.Scopes.Contains(ScopeCatalog.OfflineAccess) && client.AllowsGrant(GrantTypes.RefreshToken))
        {
            var lifetimes = TokenLifetimes.For(client, options);
            var familyEnd = code.Authorization!.ExpirationDate ?? grants.Now + lifetimes.RefreshTokenAbsolute;
            var expires = Min(grants.Now + lifetimes.RefreshTokenSliding, familyEnd);
            var refreshPayload = new GrantPayload
            {
                Scopes = payload.Scopes,
                Resources = payload.Resources,
                AuthTime = payload.AuthTime,
                SessionId = payload.SessionId,
                Claims = payload.Claims,
            };
            refreshToken = grants.NewToken(TokenTypes.RefreshToken, client.Id, code.AuthorizationId, code.Subject, refreshPayload, expires);
        }

        if (!await grants.TryRedeemAsync(code.Id, refreshToken?.Token, cancellationToken))
        {
            return null;
        }

        return refreshToken?.Value ?? "";
    }

    private async Task<IResult> ReplayAsync(OAuthToken code, ClientDescriptor client, CancellationToken cancellationToken)
    {
        // RFC 6749 §4.1.2 / RFC 9700 §4.2.4: a code used twice may be stolen; revoke all tokens issued from it.
        logger.LogWarning("Security: authorization code replayed by client {ClientId}; revoking grant {AuthorizationId}", client.ClientId, code.AuthorizationId);
        if (code.AuthorizationId is not null)
        {
            await grants.RevokeAuthorizationAsync(code.AuthorizationId, cancellationToken);
        }

        await audit.RecordAsync(new AuditEvent(AuditKinds.Token, "authorization_code.replayed", AuditOutcomes.Failure,
            AuditLog.ClientActor(client.ClientId), "grant:" + code.AuthorizationId)
        {
            ClientId = client.ClientId,
            Details = new { code.Subject, GrantRevoked = code.AuthorizationId is not null },
        });

        return Error(OAuthErrors.InvalidGrant, "The authorization code is invalid, expired or already used.");
    }

    /// <summary>RFC 7636 §4.1 and §4.6: 43-128 unreserved characters whose S256 equals the challenge; compared in constant time.</summary>
    internal static bool VerifierMatches(string? verifier, string? challenge)
    {
        if (verifier is null || challenge is null || !VerifierFormat().IsMatch(verifier))
        {
            return false;
        }

        var computed = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(challenge));
    }

    private IResult InvalidGrant(string reason, ClientDescriptor client)
    {
        logger.LogInformation("Code exchange refused: {Reason} (client {ClientId})", reason, client.ClientId);
        return Error(OAuthErrors.InvalidGrant, "The authorization code is invalid, expired or already used, or does not match this request.");
    }

    private static IResult Error(string error, string description) => new OAuthError(error, description).ToJson();

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    [GeneratedRegex("^[A-Za-z0-9._~-]{43,128}$")]
    private static partial Regex VerifierFormat();
}
