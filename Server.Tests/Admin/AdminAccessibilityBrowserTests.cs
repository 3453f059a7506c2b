using Deque.AxeCore.Playwright;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Playwright;

namespace IdentityServer.Tests.Admin;

/// <summary>
/// The admin pages checked by axe-core (the Deque.AxeCore.Playwright package embeds it) in Chromium: no serious or critical
/// violation, in light and dark colour schemes, at a desktop (1280 px) and a phone (390 px) width, and no horizontal
/// overflow on the phone. One browser and one admin sign-in for all of it (CI has two cores). Screenshots of every page land
/// in TestResults/screenshots (not committed) for a human look.
/// </summary>
public sealed class AdminAccessibilityBrowserTests(AdminBrowserServer server) : IClassFixture<AdminBrowserServer>
{
    private static readonly string[] Pages = ["/admin", "/admin/clients", "/admin/clients/new", "/admin/clients/new?preset=spa", "/admin/scopes", "/admin/users", "/admin/audit", "/admin/audit?kind=admin"];

    private static readonly int[] Widths = [1280, 390];

    [Fact]
    public async Task The_admin_pages_have_no_serious_accessibility_violations_in_light_and_dark_at_desktop_and_phone_widths()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        var client = await TestData.CreateClientAsync(server);
        string[] pages = [.. Pages, $"/admin/clients/{client.ClientId}", $"/admin/users/{admin.Id}"];
        var screenshots = Path.Combine(RepositoryPaths.Root, "TestResults", "screenshots");
        Directory.CreateDirectory(screenshots);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);

        // Sign in once (light context); the dark context starts from the same cookies.
        await using var light = await browser.NewContextAsync(new() { ColorScheme = ColorScheme.Light });
        var signIn = await light.NewPageAsync();
        signIn.SetDefaultTimeout(30_000);
        await signIn.GotoAsync(server.Url("/admin"));
        await signIn.GetByLabel("Username or email").FillAsync(admin.UserName!);
        await signIn.GetByLabel("Password").FillAsync(TestData.Password);
        await signIn.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(signIn.GetByRole(AriaRole.Heading, new() { Name = "Clients", Level = 1 })).ToBeVisibleAsync();
        var state = await light.StorageStateAsync();
        await signIn.CloseAsync();
        await using var dark = await browser.NewContextAsync(new() { ColorScheme = ColorScheme.Dark, StorageState = state });

        var failures = new List<string>();
        foreach (var (scheme, context) in new[] { ("light", light), ("dark", dark) })
        {
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(30_000);
            page.Console += (_, message) =>
            {
                if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
                {
                    failures.Add($"{scheme}: {message.Text}");
                }
            };
            foreach (var width in Widths)
            {
                await page.SetViewportSizeAsync(width, width == 390 ? 844 : 900);
                foreach (var path in pages)
                {
                    var response = await page.GotoAsync(server.Url(path));
                    var where = $"{path} ({scheme}, {width} px)";
                    Assert.True(response is { Ok: true }, $"{where}: {response?.Status}");
                    Assert.Equal(1, await page.Locator("h1").CountAsync());

                    var result = await page.RunAxe();
                    failures.AddRange(result.Violations
                        .Where(v => v.Impact is "serious" or "critical" || v.Id is "heading-order" or "page-has-heading-one")
                        .Select(v => $"{where}: {v.Id} ({v.Impact}) {v.Help}: {string.Join(" | ", v.Nodes.Select(n => n.Html))}"));

                    if (width == 390)
                    {
                        var overflow = await page.EvaluateAsync<bool>("document.documentElement.scrollWidth > window.innerWidth");
                        if (overflow)
                        {
                            failures.Add($"{where}: scrolls horizontally");
                        }
                    }

                    var name = path.Trim('/').Replace('/', '-').Replace('?', '-').Replace('=', '-');
                    await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, $"{name}-{scheme}-{width}.png"), FullPage = true });
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }
}
