using System.Collections.Concurrent;
using IdentityServer.Hosting;

namespace IdentityServer.Protocol.DeviceAuthorization;

/// <summary>
/// The brake on user-code guessing (RFC 8628 §5.1): wrong codes are counted per client address and across all
/// addresses in fixed windows (<see cref="DeviceFlowOptions"/>); once either budget is spent, the user-code page refuses
/// every code, right or wrong, until the window ends, so a guesser learns nothing more. Only wrong codes count: a person
/// who types their code correctly spends nothing. Counted in this instance's memory, like the other rate limits: with
/// several instances behind a balancer each keeps its own budget (the bound multiplies by the instance count).
/// </summary>
public sealed class UserCodeGuard(DeviceFlowOptions options, TimeProvider time)
{
    private const int MaxTrackedAddresses = 100_000;
    private readonly ConcurrentDictionary<string, Counter> _byAddress = new(StringComparer.Ordinal);
    private readonly Counter _global = new();

    /// <summary>How long <paramref name="address"/> must wait before trying a code, or null when it may try now.</summary>
    public TimeSpan? RetryAfter(string address)
    {
        var now = time.GetUtcNow();
        var global = _global.Blocked(options.UserCodeFailures, now);
        var own = _byAddress.TryGetValue(address, out var counter) ? counter.Blocked(options.UserCodeFailuresPerAddress, now) : null;
        return global is null ? own : own is null ? global : global > own ? global : own;
    }

    /// <summary>Counts a wrong (unknown, expired, already answered, malformed) code from <paramref name="address"/>.</summary>
    public void RecordFailure(string address)
    {
        var now = time.GetUtcNow();
        _global.Add(options.UserCodeFailures, now);
        if (_byAddress.Count >= MaxTrackedAddresses)
        {
            // Bounded memory: forget the addresses whose window has ended.
            foreach (var (key, counter) in _byAddress)
            {
                if (counter.Ended(options.UserCodeFailuresPerAddress, now))
                {
                    _byAddress.TryRemove(key, out _);
                }
            }
        }

        _byAddress.GetOrAdd(address, _ => new Counter()).Add(options.UserCodeFailuresPerAddress, now);
    }

    /// <summary>A fixed window: the count of failures since <c>_start</c>.</summary>
    private sealed class Counter
    {
        private readonly Lock _lock = new();
        private DateTimeOffset _start = DateTimeOffset.MinValue;
        private int _count;

        public void Add(RateLimitRule rule, DateTimeOffset now)
        {
            lock (_lock)
            {
                if (now - _start >= rule.Window)
                {
                    _start = now;
                    _count = 0;
                }

                _count++;
            }
        }

        public TimeSpan? Blocked(RateLimitRule rule, DateTimeOffset now)
        {
            lock (_lock)
            {
                return now - _start < rule.Window && _count >= rule.PermitLimit ? _start + rule.Window - now : null;
            }
        }

        public bool Ended(RateLimitRule rule, DateTimeOffset now)
        {
            lock (_lock)
            {
                return now - _start >= rule.Window;
            }
        }
    }
}
