using IdentityServer.Clients;
using IdentityServer.Protocol.DPoP;

namespace IdentityServer.Protocol.Grants;

/// <summary>
/// grant_type=client_credentials (RFC 6749 §4.4): a confidential client acting for itself. The access token's subject
/// is the client_id; there is no user, so no identity token and no refresh token (§4.4.3). Nothing is written.
/// </summary>
public sealed class ClientCredentialsGrant(
    AuthorizationRequestValidator validator,
    AudienceResolver audiences,
    TokenResponseFactory responses,
    DPoPTokenRequest dpop) : ITokenGrant
{
    public static string GrantType => GrantTypes.ClientCredentials;

    public async Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken)
    {
        if (!client.IsConfidential)
        {
            return new OAuthError(OAuthErrors.UnauthorizedClient, "Only confidential clients may use client_credentials.").ToJson();
        }

        var (scopes, error) = await validator.ValidateScopesAsync(client, parameters["scope"], cancellationToken);
        if (error is not null)
        {
            return new OAuthError(OAuthErrors.InvalidScope, error).ToJson();
        }

        if (scopes.Contains(ScopeCatalog.OpenId) || scopes.Contains(ScopeCatalog.OfflineAccess))
        {
            return new OAuthError(OAuthErrors.InvalidScope, "openid and offline_access need a user; client_credentials has none.").ToJson();
        }

        var audienceResult = await audiences.ResolveAsync(client, scopes, parameters.All("resource"), cancellationToken);
        if (audienceResult.Error is not null)
        {
            return new OAuthError(OAuthErrors.InvalidTarget, audienceResult.Error).ToJson();
        }

        return responses.Create(new GrantOutcome(client, client.ClientId, scopes, audienceResult.Audiences, AuthorizationId: null,
            ConfirmationKey: dpop.Proof?.Thumbprint));
    }
}
