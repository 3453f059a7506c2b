using System.Threading.RateLimiting;

namespace IdentityServer.Hosting;

/// <summary>
/// The per-client budget of the token, introspection and revocation endpoints (all three together,
/// <see cref="RateLimitOptions.TokenEndpointsPerClient"/>), a fixed window per client_id. It is counted only after the
/// client has authenticated: a request that merely names a client_id (with a wrong secret, or none) spends the budget
/// of its address, never that client's, so nobody can lock a client out of the token endpoint by naming it.
/// </summary>
public sealed class ClientRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    public ClientRateLimiter(RateLimitOptions options)
    {
        if (options.Enabled)
        {
            _limiter = PartitionedRateLimiter.Create<string, string>(clientId =>
                RateLimitPartition.GetFixedWindowLimiter(clientId, _ => RateLimiting.Window(options.TokenEndpointsPerClient)));
        }
    }

    /// <summary>Takes one request from the client's budget; false with the seconds to wait when it is spent.</summary>
    public bool TryAcquire(string clientId, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (_limiter is null)
        {
            return true;
        }

        using var lease = _limiter.AttemptAcquire(clientId);
        if (lease.IsAcquired)
        {
            return true;
        }

        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        retryAfterSeconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        return false;
    }

    public void Dispose() => _limiter?.Dispose();
}
