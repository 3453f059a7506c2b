using IdentityServer.Clients;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tokens;

/// <summary>A device authorization just started: the values the client shows and polls with (only their hashes are stored).</summary>
public sealed record IssuedDeviceCode(string DeviceCode, string UserCode, DateTime ExpiresAt, int Interval);

/// <summary>A pending device authorization, as the user-code page shows it.</summary>
public sealed record PendingDeviceCode(string Id, string ClientId, IReadOnlyList<string> Scopes, IReadOnlyList<string> Resources, DateTime ExpiresAt);

/// <summary>What a poll of the token endpoint finds (RFC 8628 §3.5).</summary>
public enum DevicePollState
{
    /// <summary>No such device code for this client, or it was already exchanged: invalid_grant.</summary>
    Invalid,
    Pending,
    SlowDown,
    Expired,
    Denied,
    /// <summary>Approved, and this poll won the one redemption: tokens are issued.</summary>
    Issued,
}

/// <summary>The answer to one poll; for <see cref="DevicePollState.Issued"/> the grant's facts and the new family.</summary>
public sealed record DevicePoll(DevicePollState State, string? Subject = null, GrantPayload? Payload = null, string? FamilyId = null,
    string? RefreshToken = null, int Interval = 0);

/// <summary>
/// The lifecycle of a device authorization (RFC 8628): started by a client, approved or denied once by a person on the
/// user-code page, polled by the client, exchanged for tokens exactly once. Each transition is one conditional UPDATE
/// (WHERE Status = ...), so racing requests on any number of instances cannot approve twice or redeem twice. The
/// redemption also starts the token family (an ad-hoc authorization and, when asked, its first refresh token) in the
/// same transaction: a lost race or a failure leaves nothing half-written.
/// </summary>
public sealed class DeviceCodes(IdentityDbContext db, TimeProvider time, TokenOptions options, ILogger<DeviceCodes> logger)
{
    private const int SlowDownStep = 5;

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>Stores a new device authorization for <paramref name="client"/>. A user_code clash with a live one (rare) draws again.</summary>
    public async Task<IssuedDeviceCode> CreateAsync(ClientDescriptor client, IReadOnlyList<string> scopes, IReadOnlyList<string> resources,
        TimeSpan lifetime, int interval, CancellationToken cancellationToken)
    {
        var payload = new GrantPayload { Scopes = [.. scopes], Resources = [.. resources] }.Serialize();
        for (var attempt = 1; ; attempt++)
        {
            var (deviceCode, deviceHash) = OpaqueToken.Create();
            var userCode = UserCode.Create();
            var now = Now;
            var row = new DeviceCode
            {
                ApplicationId = client.Id,
                DeviceCodeHash = deviceHash,
                UserCodeHash = UserCode.Hash(UserCode.Normalize(userCode)!),
                Status = DeviceCodeStatuses.Pending,
                Payload = payload,
                CreationDate = now,
                ExpirationDate = now + lifetime,
                Interval = interval,
                NextPollDate = now,
            };
            db.DeviceCodes.Add(row);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return new IssuedDeviceCode(deviceCode, userCode, row.ExpirationDate, interval);
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // The unique index on UserCodeHash refused a code still stored (live, or expired and not yet pruned).
                db.ChangeTracker.Clear();
                logger.LogInformation("Device authorization: user code collision, drawing another (attempt {Attempt})", attempt);
            }
        }
    }

    /// <summary>The pending, unexpired device authorization a typed user code names, or null.</summary>
    public async Task<PendingDeviceCode?> FindPendingAsync(string normalizedUserCode, CancellationToken cancellationToken)
    {
        var hash = UserCode.Hash(normalizedUserCode);
        var now = Now;
        var found = await db.DeviceCodes.AsNoTracking()
            .Where(d => d.UserCodeHash == hash && d.Status == DeviceCodeStatuses.Pending && d.ExpirationDate > now)
            .Select(d => new { d.Id, d.Application!.ClientId, d.Payload, d.ExpirationDate })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }

        var payload = GrantPayload.Deserialize(found.Payload);
        return new PendingDeviceCode(found.Id, found.ClientId, payload.Scopes, payload.Resources, found.ExpirationDate);
    }

    /// <summary>
    /// Records the person's answer: approved with the facts of their sign-in, or denied. Only a pending, unexpired row
    /// changes, once: false when it was already answered or has expired.
    /// </summary>
    public async Task<bool> DecideAsync(string id, string subject, GrantPayload? approval, CancellationToken cancellationToken)
    {
        var now = Now;
        var status = approval is null ? DeviceCodeStatuses.Denied : DeviceCodeStatuses.Approved;
        var payload = approval?.Serialize();
        var query = db.DeviceCodes.Where(d => d.Id == id && d.Status == DeviceCodeStatuses.Pending && d.ExpirationDate > now);
        var changed = approval is null
            ? await query.ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, status).SetProperty(d => d.Subject, subject)
                .SetProperty(d => d.ConcurrencyToken, Guid.NewGuid().ToString("N")), cancellationToken)
            : await query.ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, status).SetProperty(d => d.Subject, subject)
                .SetProperty(d => d.Payload, payload).SetProperty(d => d.ConcurrencyToken, Guid.NewGuid().ToString("N")), cancellationToken);
        return changed == 1;
    }

    /// <summary>
    /// One poll by <paramref name="client"/> (RFC 8628 §3.4, §3.5). A pending code polled before its interval has passed
    /// is slow_down, and its interval grows by 5 seconds for this and every later poll. An approved code is exchanged
    /// here, once: the redemption and the new family are written together, and of racing polls exactly one wins.
    /// </summary>
    public async Task<DevicePoll> PollAsync(ClientDescriptor client, string deviceCode, CancellationToken cancellationToken)
    {
        if (!OpaqueToken.IsWellFormed(deviceCode))
        {
            return new DevicePoll(DevicePollState.Invalid);
        }

        var hash = OpaqueToken.Hash(deviceCode);
        var row = await db.DeviceCodes.AsNoTracking().FirstOrDefaultAsync(d => d.DeviceCodeHash == hash, cancellationToken);
        if (row is null || row.ApplicationId != client.Id || row.Status == DeviceCodeStatuses.Redeemed)
        {
            // §3.5 names no error for these; RFC 6749 §5.2 invalid_grant: unknown, another client's, or already used.
            return new DevicePoll(DevicePollState.Invalid);
        }

        var now = Now;
        if (row.ExpirationDate <= now)
        {
            return new DevicePoll(DevicePollState.Expired);
        }

        return row.Status switch
        {
            DeviceCodeStatuses.Denied => new DevicePoll(DevicePollState.Denied),
            DeviceCodeStatuses.Approved => await RedeemAsync(client, row, cancellationToken),
            _ => await PendingAsync(row, now, cancellationToken),
        };
    }

    private async Task<DevicePoll> PendingAsync(DeviceCode row, DateTime now, CancellationToken cancellationToken)
    {
        // Claims the next poll slot: of polls racing within one interval only the first gets authorization_pending.
        var next = now.AddSeconds(row.Interval);
        var claimed = await db.DeviceCodes
            .Where(d => d.Id == row.Id && d.Status == DeviceCodeStatuses.Pending && d.NextPollDate <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextPollDate, next), cancellationToken);
        if (claimed == 1)
        {
            return new DevicePoll(DevicePollState.Pending, Interval: row.Interval);
        }

        // §3.5 slow_down: "the interval MUST be increased by 5 seconds for this and all subsequent requests".
        var slower = row.Interval + SlowDownStep;
        await db.DeviceCodes
            .Where(d => d.Id == row.Id && d.Interval == row.Interval)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Interval, slower).SetProperty(d => d.NextPollDate, now.AddSeconds(slower)), cancellationToken);
        return new DevicePoll(DevicePollState.SlowDown, Interval: slower);
    }

    private async Task<DevicePoll> RedeemAsync(ClientDescriptor client, DeviceCode row, CancellationToken cancellationToken)
    {
        var payload = GrantPayload.Deserialize(row.Payload);
        // OpenID Connect Core §11: a refresh token only with offline_access, and only for a client allowed the grant.
        var issueRefreshToken = payload.Scopes.Contains(ScopeCatalog.OfflineAccess) && client.AllowsGrant(GrantTypes.RefreshToken);
        var now = Now;
        var lifetimes = TokenLifetimes.For(client, options);
        // The device's grant is its own: not tied to the browser session that approved it (a phone signing out must not
        // sign the TV out), so no SessionId; "sign out everywhere" and the person's "apps" page still reach it.
        var family = new OAuthAuthorization
        {
            ApplicationId = client.Id,
            Subject = row.Subject!,
            Status = Statuses.Valid,
            Type = AuthorizationTypes.AdHoc,
            Scopes = string.Join(' ', payload.Scopes),
            CreationDate = now,
            ExpirationDate = lifetimes.FamilyEnd(now),
        };
        string? refreshValue = null;
        OAuthToken? refreshToken = null;
        if (issueRefreshToken)
        {
            var (value, hash) = OpaqueToken.Create();
            refreshValue = value;
            refreshToken = new OAuthToken
            {
                ApplicationId = client.Id,
                AuthorizationId = family.Id,
                Subject = family.Subject,
                Type = TokenTypes.RefreshToken,
                Status = Statuses.Valid,
                ReferenceId = hash,
                Payload = payload.Serialize(),
                CreationDate = now,
                ExpirationDate = lifetimes.RefreshTokenExpiry(now, family.ExpirationDate),
            };
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var won = await db.DeviceCodes
            .Where(d => d.Id == row.Id && d.Status == DeviceCodeStatuses.Approved)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, DeviceCodeStatuses.Redeemed)
                .SetProperty(d => d.ConcurrencyToken, Guid.NewGuid().ToString("N")), cancellationToken);
        if (won != 1)
        {
            // Another poll redeemed it first; that poll got the tokens.
            await transaction.RollbackAsync(cancellationToken);
            return new DevicePoll(DevicePollState.Invalid);
        }

        db.Authorizations.Add(family);
        if (refreshToken is not null)
        {
            db.Tokens.Add(refreshToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new DevicePoll(DevicePollState.Issued, family.Subject, payload, family.Id, refreshValue);
    }
}
