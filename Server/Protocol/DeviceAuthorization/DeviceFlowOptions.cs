using IdentityServer.Hosting;

namespace IdentityServer.Protocol.DeviceAuthorization;

/// <summary>
/// Settings of the device authorization grant (section <c>DeviceFlow</c>, RFC 8628). The guessing limits bound how
/// often anyone can try a user code: with at most <see cref="UserCodeFailures"/> wrong codes per window across all
/// addresses, a code alive for <see cref="CodeLifetime"/> can be hit by chance with a probability of at most
/// (live codes × failures per code lifetime) / 20^8. The defaults (1,000 per 5 minutes, 10-minute codes, 10,000 live
/// codes) give 2·10⁴ / 2.6·10^10 ≈ 0.8 in a million per code's lifetime.
/// </summary>
public sealed class DeviceFlowOptions
{
    public const string Section = "DeviceFlow";

    /// <summary>How long a device code and its user code can be used (expires_in).</summary>
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The least time between two polls (RFC 8628 §3.2 interval; 5 seconds is the RFC's default).</summary>
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Wrong user codes one address may enter per window before the page refuses it for the rest of the window.</summary>
    public RateLimitRule UserCodeFailuresPerAddress { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(15) };

    /// <summary>Wrong user codes all addresses together may enter per window: the global budget against distributed guessing.</summary>
    public RateLimitRule UserCodeFailures { get; set; } = new() { PermitLimit = 1_000, Window = TimeSpan.FromMinutes(5) };

    public static DeviceFlowOptions Read(IConfiguration configuration)
    {
        var options = configuration.BindSetting<DeviceFlowOptions>(Section);
        if (options.CodeLifetime < TimeSpan.FromMinutes(1) || options.CodeLifetime > TimeSpan.FromHours(1))
        {
            throw new StartupConfigurationException($"{Section}:{nameof(CodeLifetime)}", $"{options.CodeLifetime:c} is not between 1 minute and 1 hour.");
        }

        if (options.PollingInterval < TimeSpan.FromSeconds(1) || options.PollingInterval > TimeSpan.FromMinutes(1)
            || options.PollingInterval.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new StartupConfigurationException($"{Section}:{nameof(PollingInterval)}", $"{options.PollingInterval:c} is not a whole number of seconds between 1 and 60.");
        }

        Check(options.UserCodeFailuresPerAddress, nameof(UserCodeFailuresPerAddress));
        Check(options.UserCodeFailures, nameof(UserCodeFailures));
        return options;
    }

    private static void Check(RateLimitRule rule, string name)
    {
        if (rule.PermitLimit < 1 || rule.Window <= TimeSpan.Zero)
        {
            throw new StartupConfigurationException($"{Section}:{name}", "needs a positive PermitLimit and Window.");
        }
    }
}
