using IdentityServer.Clients;

namespace IdentityServer.Protocol.Grants;

/// <summary>One grant type of the token endpoint; the client is already authenticated and permitted the grant.</summary>
public interface ITokenGrant
{
    Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken);
}

public static class GrantTypes
{
    public const string AuthorizationCode = "authorization_code";
    public const string RefreshToken = "refresh_token";
    public const string ClientCredentials = "client_credentials";

    public static readonly string[] All = [AuthorizationCode, RefreshToken, ClientCredentials];
}
