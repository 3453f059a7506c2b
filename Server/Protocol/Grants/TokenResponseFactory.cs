using IdentityServer.Clients;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol.Grants;

/// <summary>What a successful grant hands out: the access token's facts, and the user facts an identity token needs.</summary>
public sealed record GrantOutcome(
    ClientDescriptor Client,
    string Subject,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<string> Audiences,
    string? AuthorizationId,
    GrantPayload? User = null,
    string? Nonce = null,
    string? RefreshToken = null,
    string? ConfirmationKey = null)
{
    /// <summary>Token exchange (RFC 8693): the acting party, written as the access token's act claim.</summary>
    public ActorClaim? Actor { get; init; }

    /// <summary>Token exchange: the access token never outlives this instant (the subject token's expiry).</summary>
    public DateTimeOffset? NotAfter { get; init; }

    /// <summary>Token exchange: the response's issued_token_type (RFC 8693 §2.2.1).</summary>
    public string? IssuedTokenType { get; init; }
}

/// <summary>Mints the tokens of a successful grant and writes the RFC 6749 §5.1 response.</summary>
public sealed class TokenResponseFactory(TokenIssuer issuer, TokenOptions options, TimeProvider time)
{
    public IResult Create(GrantOutcome outcome)
    {
        var lifetimes = TokenLifetimes.For(outcome.Client, options);
        var accessLifetime = lifetimes.AccessToken;
        if (outcome.NotAfter is { } notAfter && notAfter - time.GetUtcNow() < accessLifetime)
        {
            accessLifetime = notAfter - time.GetUtcNow();
        }

        var access = issuer.CreateAccessToken(new AccessTokenRequest(
            outcome.Subject, outcome.Client.ClientId, outcome.Audiences, outcome.Scopes, accessLifetime,
            outcome.User?.AuthTime, outcome.AuthorizationId, outcome.User?.Amr, outcome.User?.Acr, outcome.ConfirmationKey)
        { Actor = outcome.Actor });

        string? identityToken = null;
        if (outcome.User is not null && outcome.Scopes.Contains(ScopeCatalog.OpenId))
        {
            identityToken = issuer.CreateIdentityToken(new IdentityTokenRequest(
                outcome.Subject, outcome.Client.ClientId, lifetimes.IdentityToken, outcome.User.AuthTime, outcome.Nonce,
                outcome.User.SessionId, access.Value, Filter(outcome.User.Claims, outcome.Scopes), outcome.User.Amr, outcome.User.Acr));
        }

        var expiresIn = (long)Math.Round((access.ExpiresAt - time.GetUtcNow()).TotalSeconds);
        return new OAuthJsonResult(StatusCodes.Status200OK, json =>
        {
            json.WriteString("access_token", access.Value);
            if (outcome.IssuedTokenType is not null)
            {
                json.WriteString("issued_token_type", outcome.IssuedTokenType);
            }

            // RFC 9449 §5.1: a DPoP-bound access token has token_type DPoP.
            json.WriteString("token_type", outcome.ConfirmationKey is null ? "Bearer" : "DPoP");
            json.WriteNumber("expires_in", expiresIn);
            if (outcome.Scopes.Count > 0)
            {
                json.WriteString("scope", string.Join(' ', outcome.Scopes));
            }

            if (identityToken is not null)
            {
                json.WriteString("id_token", identityToken);
            }

            if (outcome.RefreshToken is not null)
            {
                json.WriteString("refresh_token", outcome.RefreshToken);
            }
        });
    }

    /// <summary>A narrowed refresh keeps only the claims of the scopes still granted.</summary>
    private static UserClaimSet? Filter(UserClaimSet? claims, IReadOnlyList<string> scopes)
    {
        if (claims is null)
        {
            return null;
        }

        var profile = scopes.Contains(ScopeCatalog.Profile);
        var email = scopes.Contains(ScopeCatalog.Email);
        return new UserClaimSet
        {
            Name = profile ? claims.Name : null,
            PreferredUsername = profile ? claims.PreferredUsername : null,
            Picture = profile ? claims.Picture : null,
            UpdatedAt = profile ? claims.UpdatedAt : null,
            Email = email ? claims.Email : null,
            EmailVerified = email ? claims.EmailVerified : null,
            Roles = scopes.Contains(ScopeCatalog.Roles) ? claims.Roles : null,
            Custom = claims.Custom?.Where(c => c.Scopes.Any(scopes.Contains)).ToList(),
        };
    }
}
