namespace IdentityServer.Tests.Federation;

/// <summary>
/// A test that drives Debian's Chromium. Outside CI, on a machine without it, the test is reported as skipped with the
/// reason; with CI=true it never skips, so a missing Chromium fails the run.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (!File.Exists(ExecutablePath) && !ci)
        {
            Skip = $"Chromium is not installed at {ExecutablePath} (apt-get install chromium); with CI=true this fails instead.";
        }
    }
}
