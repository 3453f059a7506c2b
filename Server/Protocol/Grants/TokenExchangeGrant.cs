using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol.Grants;

/// <summary>
/// grant_type=urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693): a confidential client presents an access
/// token of ours (the subject token) and gets a new access token for the same subject, for the audiences its policy
/// allows (<see cref="ClientSettings.TokenExchangeAudiences"/>), with the same or fewer scopes. Without an actor token
/// that is impersonation (<see cref="ClientSettings.TokenExchangeImpersonation"/>); with one, delegation
/// (<see cref="ClientSettings.TokenExchangeDelegation"/>): the new token names the actor in its act claim, with any
/// earlier actors nested inside (§4.1).
/// </summary>
/// <remarks>
/// The family rule: an exchanged token belongs to the subject token's grant (its grant_id), so whatever revokes that
/// grant (sign-out everywhere, refresh-token reuse, revocation) makes introspection report the exchanged token inactive
/// too; it never outlives the subject token (exp capped at the subject's); and no refresh token is issued, so an
/// exchange cannot extend access beyond what the subject token already had.
/// </remarks>
public sealed class TokenExchangeGrant(
    AccessTokenValidator validator,
    AccessTokenStatus status,
    AudienceResolver audienceResolver,
    ServerOptions server,
    TokenResponseFactory responses,
    AuditLog audit,
    DPoP.DPoPTokenRequest dpop,
    ILogger<TokenExchangeGrant> logger) : ITokenGrant
{
    public static string GrantType => GrantTypes.TokenExchange;

    /// <summary>RFC 8693 §3 token type identifiers.</summary>
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    public const string JwtType = "urn:ietf:params:oauth:token-type:jwt";

    public async Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken)
    {
        if (!client.IsConfidential)
        {
            return Error(OAuthErrors.UnauthorizedClient, "Only confidential clients may exchange tokens.");
        }

        // §2.1: requested_token_type is optional; this server issues access tokens only.
        if (parameters["requested_token_type"] is { } requested && requested != AccessTokenType)
        {
            return Error(OAuthErrors.InvalidRequest, $"requested_token_type must be {AccessTokenType}: this server issues only access tokens by token exchange.");
        }

        if (parameters["subject_token"] is not { } subjectToken || parameters["subject_token_type"] is not { } subjectType)
        {
            return Error(OAuthErrors.InvalidRequest, "subject_token and subject_token_type are required.");
        }

        if (!IsSupportedType(subjectType))
        {
            return Error(OAuthErrors.InvalidRequest, $"subject_token_type must be {AccessTokenType}: only this server's access tokens can be exchanged.");
        }

        var actorToken = parameters["actor_token"];
        var actorType = parameters["actor_token_type"];
        if ((actorToken is null) != (actorType is null))
        {
            // §2.1: actor_token_type is required with actor_token and must not be sent without it.
            return Error(OAuthErrors.InvalidRequest, "actor_token and actor_token_type go together.");
        }

        if (actorType is not null && !IsSupportedType(actorType))
        {
            return Error(OAuthErrors.InvalidRequest, $"actor_token_type must be {AccessTokenType}.");
        }

        var subject = await validator.ValidateAsync(subjectToken);
        if (subject is null || !await status.IsLiveAsync(subject, cancellationToken))
        {
            return await RefuseAsync(client, OAuthErrors.InvalidGrant, "The subject_token is invalid, expired or revoked.", "subject token not valid");
        }

        // The subject token must have been issued to this client, or for it (this client is among its audiences, a resource
        // server passing a caller's token on): nobody exchanges a token they were merely shown.
        if (subject.ClientId != client.ClientId && !subject.Audiences.Contains(client.ResourceIdentifier))
        {
            return await RefuseAsync(client, OAuthErrors.InvalidGrant, "The subject_token was not issued to or for this client.", "subject token not for this client");
        }

        var delegation = actorToken is not null;
        if (delegation ? client.Settings.TokenExchangeDelegation != true : client.Settings.TokenExchangeImpersonation != true)
        {
            return await RefuseAsync(client, OAuthErrors.UnauthorizedClient,
                delegation ? "This client may not exchange tokens with an actor (delegation)." : "This client may not exchange tokens without an actor (impersonation).",
                delegation ? "delegation not allowed" : "impersonation not allowed");
        }

        var priorActors = ActorClaim.Read(subject.Token);
        var actor = priorActors;
        if (delegation)
        {
            var actorJwt = await validator.ValidateAsync(actorToken);
            if (actorJwt is null || !await status.IsLiveAsync(actorJwt, cancellationToken))
            {
                return await RefuseAsync(client, OAuthErrors.InvalidGrant, "The actor_token is invalid, expired or revoked.", "actor token not valid");
            }

            // The actor is the client itself (or acts through it): an actor token issued to another client is refused.
            if (actorJwt.ClientId != client.ClientId)
            {
                return await RefuseAsync(client, OAuthErrors.InvalidGrant, "The actor_token was not issued to this client.", "actor token of another client");
            }

            // §4.1: the new actor outermost, the subject token's own actors nested inside it.
            actor = new ActorClaim(actorJwt.Subject, actorJwt.ClientId, priorActors);
            if (actor.Depth > ActorClaim.MaxDepth)
            {
                return Error(OAuthErrors.InvalidRequest, $"The delegation chain would be longer than {ActorClaim.MaxDepth} actors.");
            }
        }

        var (scopes, scopeError) = Scopes(client, subject, parameters["scope"]);
        if (scopeError is not null)
        {
            return await RefuseAsync(client, OAuthErrors.InvalidScope, scopeError, "scope broader than the subject token's");
        }

        var (audiences, targetError) = await AudiencesAsync(client, scopes, parameters.All("audience").Concat(parameters.All("resource")).ToList(), cancellationToken);
        if (targetError is not null)
        {
            return await RefuseAsync(client, OAuthErrors.InvalidTarget, targetError, "audience not allowed");
        }

        await audit.RecordTokenEventAsync(client.ClientId, "token_exchange.issued", AuditOutcomes.Success, "user:" + subject.Subject, new
        {
            Mode = delegation ? "delegation" : "impersonation",
            SubjectClientId = subject.ClientId,
            Actor = actor?.Subject,
            Audiences = audiences,
            Scopes = scopes,
        });
        // RFC 9449 §5: a proof sent with the exchange binds the issued access token to its key.
        return responses.Create(new GrantOutcome(client, subject.Subject, scopes, audiences, subject.AuthorizationId,
            ConfirmationKey: dpop.Proof?.Thumbprint)
        {
            Actor = actor,
            NotAfter = subject.ExpiresAt,
            IssuedTokenType = AccessTokenType,
        });
    }

    private static bool IsSupportedType(string type) => type is AccessTokenType or JwtType;

    /// <summary>
    /// §2.1 scope: never broader than the subject token's, and only scopes this client may have (openid aside). Without a
    /// scope parameter, the subject's scopes this client may have. offline_access is dropped: no refresh token is issued.
    /// </summary>
    private static (IReadOnlyList<string> Scopes, string? Error) Scopes(ClientDescriptor client, ValidatedAccessToken subject, string? scope)
    {
        bool Allowed(string s) => s == ScopeCatalog.OpenId || client.Scopes.Contains(s);
        if (scope is null)
        {
            return ([.. subject.Scopes.Where(s => s != ScopeCatalog.OfflineAccess && Allowed(s))], null);
        }

        var requested = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        if (requested.FirstOrDefault(s => !subject.Scopes.Contains(s)) is { } wider)
        {
            return ([], $"The scope '{(wider.Length > 50 ? wider[..50] + "..." : wider)}' is not in the subject token: an exchange can only narrow the scope.");
        }

        if (requested.FirstOrDefault(s => !Allowed(s)) is { } notPermitted)
        {
            return ([], $"This client may not request the scope '{notPermitted}'.");
        }

        return ([.. requested.Where(s => s != ScopeCatalog.OfflineAccess)], null);
    }

    /// <summary>
    /// §2.1 audience and resource: each must be in the client's policy. Without them, the audiences the scopes name,
    /// kept to the policy; this server itself (userinfo) with openid or when nothing else is left.
    /// </summary>
    private async Task<(IReadOnlyList<string> Audiences, string? Error)> AudiencesAsync(ClientDescriptor client, IReadOnlyList<string> scopes,
        List<string> requested, CancellationToken cancellationToken)
    {
        var allowed = (client.Settings.TokenExchangeAudiences ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (requested.Count > 0)
        {
            if (requested.FirstOrDefault(a => !allowed.Contains(a)) is { } refused)
            {
                return ([], $"This client may not request a token for '{(refused.Length > 100 ? refused[..100] + "..." : refused)}'.");
            }

            return (requested.Distinct(StringComparer.Ordinal).ToList(), null);
        }

        var (fromScopes, _) = await audienceResolver.ResolveAsync(client, scopes, [], cancellationToken);
        var audiences = fromScopes.Where(a => allowed.Contains(a) || a == server.Issuer).ToList();
        return (audiences.Count > 0 ? audiences : [server.Issuer], null);
    }

    private async Task<IResult> RefuseAsync(ClientDescriptor client, string error, string description, string reason)
    {
        logger.LogInformation("Token exchange refused: {Reason} (client {ClientId})", reason, client.ClientId);
        await audit.RecordTokenEventAsync(client.ClientId, "token_exchange.refused", AuditOutcomes.Failure, "client:" + client.ClientId,
            new { Reason = reason });
        return Error(error, description);
    }

    private static IResult Error(string error, string description) => new OAuthError(error, description).ToJson();
}
