namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// A test that needs PostgreSQL. Outside CI, on a machine without Debian's postgresql package, it is reported as
/// skipped (visibly, with the reason); with CI=true it never skips, so a missing PostgreSQL fails the run.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresCluster.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
