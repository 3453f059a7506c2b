using IdentityServer.Hosting;

namespace IdentityServer.Jobs;

/// <summary>Settings of the pruning job (section <c>Pruning</c>).</summary>
public sealed class PruningOptions
{
    public const string Section = "Pruning";

    /// <summary>
    /// The shortest retention accepted. A row younger than this is never a candidate, so nothing a request is writing
    /// right now (a code and its grant, a refresh rotation) can be pruned under it, even with some clock difference
    /// between server instances.
    /// </summary>
    public static readonly TimeSpan MinimumRetention = TimeSpan.FromMinutes(10);

    public const int MaximumBatchSize = 100_000;

    /// <summary>Runs the job on a schedule. The <c>prune</c> command runs it regardless.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Time between two runs; the first run comes 1 to 10 minutes after start.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How old (since creation) a dead row must be before it is deleted.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(14);

    /// <summary>How old an audit-log entry must be before it is deleted (its own retention: audits are kept far longer than dead tokens).</summary>
    public TimeSpan AuditRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Rows examined per delete statement; each statement is its own short transaction.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>Reads and checks the section; a bad value stops startup with a message naming the setting.</summary>
    public static PruningOptions Read(IConfiguration configuration)
    {
        var options = configuration.BindSetting<PruningOptions>(Section);
        options.Validate();
        return options;
    }

    internal void Validate()
    {
        if (Retention < MinimumRetention)
        {
            throw new StartupConfigurationException($"{Section}:{nameof(Retention)}",
                $"{Retention:c} is too short; the retention must be at least {MinimumRetention:c} (default 14.00:00:00).");
        }

        if (AuditRetention < MinimumRetention)
        {
            throw new StartupConfigurationException($"{Section}:{nameof(AuditRetention)}",
                $"{AuditRetention:c} is too short; the audit retention must be at least {MinimumRetention:c} (default 90.00:00:00).");
        }

        if (Interval <= TimeSpan.Zero)
        {
            throw new StartupConfigurationException($"{Section}:{nameof(Interval)}",
                $"{Interval:c} is not a positive time span (default 01:00:00).");
        }

        if (BatchSize is < 1 or > MaximumBatchSize)
        {
            throw new StartupConfigurationException($"{Section}:{nameof(BatchSize)}",
                $"{BatchSize} is out of range; use 1 to {MaximumBatchSize} (default 1000). Large batches hold row locks longer.");
        }
    }
}
