using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol.Grants;

/// <summary>
/// grant_type=urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4, §3.5): the client polls with its
/// device_code. Until the person answers: authorization_pending, or slow_down when it polls faster than its interval
/// (the interval then grows by 5 seconds); a denial is access_denied, a code past its lifetime expired_token. An approved
/// code is exchanged once, like an authorization code: access token, ID token with openid, refresh token with
/// offline_access for a client allowed refresh_token.
/// </summary>
public sealed class DeviceCodeGrant(DeviceCodes devices, AudienceResolver audiences, TokenResponseFactory responses, AuditLog audit,
    DPoP.DPoPTokenRequest dpop, ILogger<DeviceCodeGrant> logger) : ITokenGrant
{
    public static string GrantType => GrantTypes.DeviceCode;

    public async Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken)
    {
        if (parameters["device_code"] is not { } deviceCode)
        {
            return Error(OAuthErrors.InvalidRequest, "device_code is required.");
        }

        var poll = await devices.PollAsync(client, deviceCode, cancellationToken);
        switch (poll.State)
        {
            case DevicePollState.Pending:
                return Error(DeviceErrors.AuthorizationPending, "The person has not answered yet; poll again after the interval.");
            case DevicePollState.SlowDown:
                return Error(DeviceErrors.SlowDown, $"Polling too fast; wait at least {poll.Interval} seconds between requests.");
            case DevicePollState.Expired:
                return Error(DeviceErrors.ExpiredToken, "The device code has expired; start a new device authorization.");
            case DevicePollState.Denied:
                return Error(OAuthErrors.AccessDenied, "The person denied the request.");
            case DevicePollState.Invalid:
                logger.LogInformation("Device code refused: unknown, another client's or already used (client {ClientId})", client.ClientId);
                return Error(OAuthErrors.InvalidGrant, "The device code is invalid or already used.");
        }

        var payload = poll.Payload!;
        // The access token's audiences: the resources of the device authorization request (RFC 8707 §2.2 may narrow them).
        var (audienceList, targetError) = await audiences.ResolveWithinGrantAsync(client, payload.Scopes, [], payload.Resources, cancellationToken);
        if (targetError is not null)
        {
            return Error(OAuthErrors.InvalidTarget, targetError);
        }

        await audit.RecordTokenEventAsync(client.ClientId, "device_code.redeemed", AuditOutcomes.Success, "grant:" + poll.FamilyId,
            new { poll.Subject, Scopes = payload.Scopes });
        return responses.Create(new GrantOutcome(client, poll.Subject!, payload.Scopes, audienceList, poll.FamilyId, payload, Nonce: null, poll.RefreshToken,
            // RFC 9449 §5: a proof sent with the poll binds the access token to its key.
            ConfirmationKey: dpop.Proof?.Thumbprint));
    }

    private static IResult Error(string error, string description) => new OAuthError(error, description).ToJson();
}

/// <summary>The error codes of RFC 8628 §3.5.</summary>
public static class DeviceErrors
{
    public const string AuthorizationPending = "authorization_pending";
    public const string SlowDown = "slow_down";
    public const string ExpiredToken = "expired_token";
}
