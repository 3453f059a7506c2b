using IdentityServer.Accounts;
using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol.DeviceAuthorization;

/// <summary>A user code as the page shows it: the client, the scopes in words, the code itself for the person to compare (RFC 8628 §5.4).</summary>
public sealed record DeviceRequest(PendingDeviceCode Pending, ClientDescriptor Client, IReadOnlyList<ScopeDescriptor> Scopes, string UserCode);

/// <summary>The outcome of looking up a typed user code: the request, or why not (in words for the person), or a wait.</summary>
public sealed record DeviceLookup(DeviceRequest? Request, string? Error, TimeSpan? RetryAfter = null);

/// <summary>
/// The user-code page's door to the device grant (RFC 8628 §3.3): looks up what a person typed, within the guessing
/// limits (<see cref="UserCodeGuard"/>), and records their answer. Approving captures the person's claims and how they
/// signed in, as issuing an authorization code does, and remembers the consent like the consent page.
/// </summary>
public sealed class DeviceVerification(DeviceCodes devices, ClientStore clients, ScopeCatalog scopeCatalog, UserCodeGuard guard,
    UserClaimsReader users, ConsentService consent, AuditLog audit, ILogger<DeviceVerification> logger)
{
    private const string NotFound = "That code is not valid. Check the code on your device and try again; codes expire after a few minutes.";

    public async Task<DeviceLookup> LookupAsync(string? typed, string address, CancellationToken cancellationToken)
    {
        if (guard.RetryAfter(address) is { } wait)
        {
            logger.LogWarning("Device user code: attempt refused from {Address}, guessing limit reached", address);
            return new DeviceLookup(null, $"Too many wrong codes. Wait {Math.Ceiling(wait.TotalMinutes):0} minutes, then try again.", wait);
        }

        var normalized = UserCode.Normalize(typed);
        var pending = normalized is null ? null : await devices.FindPendingAsync(normalized, cancellationToken);
        var client = pending is null ? null : await clients.FindAsync(pending.ClientId, cancellationToken);
        if (pending is null || client is not { Enabled: true } || !client.AllowsGrant(GrantTypes.DeviceCode))
        {
            guard.RecordFailure(address);
            logger.LogInformation("Device user code: unknown, expired or answered code entered from {Address}", address);
            return new DeviceLookup(null, NotFound);
        }

        var catalog = await scopeCatalog.GetAllAsync(cancellationToken);
        var scopes = pending.Scopes.Select(s => catalog.TryGetValue(s, out var d) ? d : new ScopeDescriptor(s, s, null, [])).ToList();
        return new DeviceLookup(new DeviceRequest(pending, client, scopes, UserCode.Display(normalized!)), null);
    }

    /// <summary>Approves the device request for the signed-in person. False when it was answered or expired meanwhile, or the account is gone.</summary>
    public async Task<bool> ApproveAsync(DeviceRequest request, SignInSession session, CancellationToken cancellationToken)
    {
        var scopes = request.Pending.Scopes;
        var claims = await users.ReadAsync(session.Subject, scopes, cancellationToken);
        if (claims is null)
        {
            return false;
        }

        // The device's tokens carry this sign-in's facts, as a code's do, but not its session id: the device is not part
        // of this browser session (see DeviceCodes).
        var payload = new GrantPayload
        {
            Scopes = [.. scopes],
            Resources = [.. request.Pending.Resources],
            AuthTime = session.AuthTime.ToUnixTimeSeconds(),
            Amr = [.. session.Methods],
            Acr = session.Level,
            Claims = claims,
        };
        if (!await devices.DecideAsync(request.Pending.Id, session.Subject, payload, cancellationToken))
        {
            return false;
        }

        await consent.GrantAsync(request.Client.Id, session.Subject, scopes, cancellationToken);
        await audit.RecordDeviceDecisionAsync(session.Subject, "device_authorization.approved", request.Client.ClientId, new { Scopes = scopes });
        return true;
    }

    public async Task<bool> DenyAsync(DeviceRequest request, SignInSession session, CancellationToken cancellationToken)
    {
        if (!await devices.DecideAsync(request.Pending.Id, session.Subject, approval: null, cancellationToken))
        {
            return false;
        }

        await audit.RecordDeviceDecisionAsync(session.Subject, "device_authorization.denied", request.Client.ClientId, null);
        return true;
    }
}
