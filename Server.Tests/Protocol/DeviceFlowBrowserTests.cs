using System.Net;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Playwright;

namespace IdentityServer.Tests.Protocol;

/// <summary>The server on a real port for Chromium and a command-line client.</summary>
public sealed class DeviceFlowBrowserServer : KestrelServer;

/// <summary>
/// RFC 8628 end to end: a command-line client (a plain HttpClient, no browser, a public client) starts the flow and
/// polls, honouring interval and slow_down; a person opens verification_uri_complete in Chromium, signs in and allows
/// it; the poller then gets its tokens.
/// </summary>
public sealed class DeviceFlowBrowserTests(DeviceFlowBrowserServer server) : IClassFixture<DeviceFlowBrowserServer>
{
    [Fact]
    public async Task A_command_line_client_gets_tokens_once_the_person_allows_it_in_the_browser()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await DeviceFlow.CreateClientAsync(server);
        using var cli = new HttpClient { BaseAddress = server.RootUri };

        using var started = await cli.PostAsync(new Uri("/connect/device", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = client.ClientId,
            ["scope"] = "openid profile offline_access",
        }));
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        using var start = JsonDocument.Parse(await started.Content.ReadAsStringAsync());
        var deviceCode = start.RootElement.GetProperty("device_code").GetString()!;
        var userCode = start.RootElement.GetProperty("user_code").GetString()!;
        var complete = start.RootElement.GetProperty("verification_uri_complete").GetString()!;
        Assert.StartsWith(server.IssuerUri + "/device?user_code=", complete, StringComparison.Ordinal);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var polling = PollAsync(cli, client.ClientId, deviceCode, start.RootElement.GetProperty("interval").GetInt32(), stop.Token);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync(complete);
        await page.GetByLabel("Username or email").FillAsync(user.UserName!);
        await page.GetByLabel("Password").FillAsync(TestData.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // §5.4: the page shows the code again, for the person to compare with the device.
        await Assertions.Expect(page.Locator(".user-code")).ToHaveTextAsync(userCode);
        await page.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Device connected" })).ToBeVisibleAsync();

        var (tokens, pendingAnswers) = await polling;
        Assert.True(pendingAnswers > 0, "the poller should have been told to wait at least once");
        Assert.Equal(user.Id, new JsonWebToken(tokens.GetProperty("access_token").GetString()).Subject);
        Assert.Equal(user.Id, new JsonWebToken(tokens.GetProperty("id_token").GetString()).Subject);
        Assert.False(string.IsNullOrEmpty(tokens.GetProperty("refresh_token").GetString()));
    }

    /// <summary>
    /// The command-line client's loop (RFC 8628 §3.4, §3.5): wait the interval between polls, add 5 seconds on slow_down.
    /// The server's clock is the tests' fake one, so each wait moves it by the interval (and a real moment passes).
    /// </summary>
    private async Task<(JsonElement Tokens, int PendingAnswers)> PollAsync(HttpClient cli, string clientId, string deviceCode, int interval,
        CancellationToken cancellationToken)
    {
        var pending = 0;
        while (true)
        {
            server.Time.Advance(TimeSpan.FromSeconds(interval));
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            using var response = await cli.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = DeviceFlow.GrantType,
                ["device_code"] = deviceCode,
                ["client_id"] = clientId,
            }), cancellationToken);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return (body.RootElement.Clone(), pending);
            }

            switch (body.RootElement.GetProperty("error").GetString())
            {
                case "authorization_pending":
                    pending++;
                    break;
                case "slow_down":
                    interval += 5;
                    break;
                default:
                    throw new InvalidOperationException("Device flow failed: " + body.RootElement);
            }
        }
    }
}
