using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using IdentityServer.Clients;
using IdentityServer.Protocol.DPoP;
using IdentityServer.Tokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Protocol.Grants;

/// <summary>
/// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID Connect Core §3.1.3): the request's own
/// checks (redirect_uri, PKCE, resource), then the code's single-use redemption by the token lifecycle, which also
/// revokes what a replayed code issued (RFC 6749 §4.1.2).
/// </summary>
public sealed partial class AuthorizationCodeGrant(
    TokenFamilies families,
    AudienceResolver audiences,
    TokenResponseFactory responses,
    DPoPTokenRequest dpop,
    ILogger<AuthorizationCodeGrant> logger) : ITokenGrant
{
    public static string GrantType => GrantTypes.AuthorizationCode;

    public async Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken)
    {
        if (parameters["code"] is not { } value)
        {
            return Error(OAuthErrors.InvalidRequest, "code is required.");
        }

        await using var connection = await families.HoldConnectionAsync(cancellationToken);
        var (code, refusal) = await families.FindCodeAsync(client, value, cancellationToken);
        if (code is null)
        {
            return refusal == TokenRefusal.Replayed ? Replayed() : InvalidGrant();
        }

        var payload = code.Payload;
        var redirectUri = parameters["redirect_uri"];
        if (payload.RedirectUri is not null ? redirectUri != payload.RedirectUri : redirectUri is not null && !client.RedirectUris.Contains(redirectUri))
        {
            // §4.1.3: identical to the redirect_uri of the authorization request.
            return Mismatch("redirect_uri mismatch", client);
        }

        if (!VerifierMatches(parameters["code_verifier"], payload.CodeChallenge))
        {
            return Mismatch("PKCE verification failed", client);
        }

        // RFC 9449 §10: a code requested with dpop_jkt is redeemed only with a proof of that key.
        if (payload.DpopJkt is { } boundKey && dpop.Proof?.Thumbprint != boundKey)
        {
            return Mismatch(dpop.Proof is null ? "no DPoP proof for a code bound with dpop_jkt" : "DPoP key does not match dpop_jkt", client);
        }

        var audienceResult = await audiences.ResolveWithinGrantAsync(client, payload.Scopes, parameters.All("resource"), payload.Resources, cancellationToken);
        if (audienceResult.Error is not null)
        {
            return Error(OAuthErrors.InvalidTarget, audienceResult.Error);
        }

        // OpenID Connect Core §11: a refresh token only with offline_access, and only for a client allowed the grant.
        var withRefreshToken = payload.Scopes.Contains(ScopeCatalog.OfflineAccess) && client.AllowsGrant(GrantTypes.RefreshToken);
        // RFC 9449 §5: a public client's refresh token is bound to the key of its proof; a confidential client's is not
        // (it authenticates anyway), though its access token is.
        var refreshTokenKey = client.IsConfidential ? null : dpop.Proof?.Thumbprint;
        var refreshToken = await families.RedeemCodeAsync(client, code, withRefreshToken, cancellationToken, refreshTokenKey);
        if (refreshToken is null)
        {
            return Replayed();
        }

        return responses.Create(new GrantOutcome(client, code.Subject, payload.Scopes, audienceResult.Audiences, code.FamilyId,
            payload, payload.Nonce, refreshToken.Length == 0 ? null : refreshToken, dpop.Proof?.Thumbprint));
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

    private static IResult InvalidGrant() =>
        Error(OAuthErrors.InvalidGrant, "The authorization code is invalid, expired or already used, or does not match this request.");

    private IResult Mismatch(string reason, ClientDescriptor client)
    {
        logger.LogInformation("Code exchange refused: {Reason} (client {ClientId})", reason, client.ClientId);
        return InvalidGrant();
    }

    private static IResult Replayed() => Error(OAuthErrors.InvalidGrant, "The authorization code is invalid, expired or already used.");

    private static IResult Error(string error, string description) => new OAuthError(error, description).ToJson();

    [GeneratedRegex("^[A-Za-z0-9._~-]{43,128}$")]
    private static partial Regex VerifierFormat();
}
