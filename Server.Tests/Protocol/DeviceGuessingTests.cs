using System.Net;
using IdentityServer.Protocol.DeviceAuthorization;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace IdentityServer.Tests.Protocol;

/// <summary>A host whose user-code page allows 3 wrong codes per address per 5 minutes (codes live 10) (the in-process host has one address).</summary>
public sealed class DeviceGuessingServer : ServerFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["DeviceFlow:UserCodeFailuresPerAddress:PermitLimit"] = "3",
        ["DeviceFlow:UserCodeFailuresPerAddress:Window"] = "00:05:00",
    };
}

/// <summary>
/// User codes are short, so guessing them is limited (RFC 8628 §5.1): wrong codes per address and across all addresses.
/// Once a budget is spent, every code is refused until the window ends, the right one too, so guessing learns nothing.
/// </summary>
public sealed class DeviceGuessingTests(DeviceGuessingServer server) : IClassFixture<DeviceGuessingServer>
{
    [Fact]
    public async Task After_the_wrong_codes_an_address_may_enter_even_the_right_code_waits_for_the_window()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        using var browser = new BrowserSession(server);
        var device = await DeviceFlow.StartAsync(http, client);
        await DeviceFlow.OpenAsync(browser, "BBBB-BBBB", user.UserName!);
        await browser.GetAsync("/device?user_code=CCCC-CCCC");
        await browser.GetAsync("/device?user_code=not-a-code");

        var refused = await browser.GetAsync("/device?user_code=" + device.UserCode);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        var page = await BrowserSession.ReadPageAsync(refused);
        Assert.Contains("Too many wrong codes", page.QuerySelector(".error")?.TextContent, StringComparison.Ordinal);
        Assert.Null(page.QuerySelector("button[value=approve]"));

        // The form POST is under the same limit.
        var posted = await browser.SubmitAsync(refused, new() { ["user_code"] = device.UserCode });
        Assert.Equal(HttpStatusCode.TooManyRequests, posted.StatusCode);

        server.Time.Advance(TimeSpan.FromMinutes(5));
        var open = await BrowserSession.ReadPageAsync(await browser.GetAsync("/device?user_code=" + device.UserCode));
        Assert.NotNull(open.QuerySelector("button[value=approve]"));
    }

    [Fact]
    public void The_global_budget_stops_guessing_spread_over_many_addresses()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var guard = new UserCodeGuard(new DeviceFlowOptions
        {
            UserCodeFailuresPerAddress = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(15) },
            UserCodeFailures = new() { PermitLimit = 5, Window = TimeSpan.FromMinutes(5) },
        }, time);

        for (var i = 0; i < 5; i++)
        {
            Assert.Null(guard.RetryAfter($"192.0.2.{i}"));
            guard.RecordFailure($"192.0.2.{i}");
        }

        // A sixth address, never seen, is refused too; after the window everyone may try again.
        Assert.Equal(TimeSpan.FromMinutes(5), guard.RetryAfter("198.51.100.7"));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(guard.RetryAfter("198.51.100.7"));
    }

    [Fact]
    public void Right_codes_cost_nothing_and_each_address_has_its_own_budget()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var guard = new UserCodeGuard(new DeviceFlowOptions
        {
            UserCodeFailuresPerAddress = new() { PermitLimit = 2, Window = TimeSpan.FromMinutes(15) },
        }, time);

        guard.RecordFailure("192.0.2.1");
        guard.RecordFailure("192.0.2.1");

        Assert.NotNull(guard.RetryAfter("192.0.2.1"));
        Assert.Null(guard.RetryAfter("192.0.2.2"));
    }
}
