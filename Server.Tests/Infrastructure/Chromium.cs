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
