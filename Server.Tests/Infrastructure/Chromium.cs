using Microsoft.Playwright;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright (never Playwright's own browser download): headless, no sandbox (the tests
/// may run as root). Pair with <see cref="KestrelServer"/>, which gives the browser a real address.
/// </summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Launches Chromium; a missing browser fails the test with what to install.</summary>
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        ArgumentNullException.ThrowIfNull(playwright);
        Assert.True(File.Exists(ExecutablePath), $"The browser tests need Debian's Chromium at {ExecutablePath} (apt-get install chromium).");
        return await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--headless"],
        });
    }
}

/// <summary>
/// A test that drives Chromium. Outside CI, on a machine without it, it is reported as skipped with the reason; with
/// CI=true it never skips, so a missing Chromium fails the run (<see cref="Chromium.LaunchAsync"/> asserts).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (SkipReasonFor(File.Exists(Chromium.ExecutablePath), PostgresCluster.IsCi) is { } reason)
        {
            Skip = reason;
        }
    }

    internal static string? SkipReasonFor(bool installed, bool ci) =>
        installed || ci ? null : $"Chromium is not installed at {Chromium.ExecutablePath} (apt-get install chromium). With CI=true this is a failure.";
}
