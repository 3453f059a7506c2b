using System.Net;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Security;

/// <summary>
/// The server's own requests to URLs that clients registered (SSRF): public addresses only, judged on the address
/// actually connected to, no redirects followed, a capped response; loopback only where configuration allows it.
/// </summary>
public sealed class OutboundHttpTests
{
    [Theory]
    [InlineData("93.184.215.14", true)]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.1.2.3", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.5.4", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)] // cloud metadata
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::1", false)]
    [InlineData("::", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fc00::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:169.254.169.254", false)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("64:ff9b::a00:1", false)] // NAT64 of 10.0.0.1
    [InlineData("2002:7f00:1::", false)] // 6to4 of 127.0.0.1
    [InlineData("::7f00:1", false)] // IPv4-compatible 127.0.0.1
    public void Only_public_unicast_addresses_are_allowed(string address, bool allowed)
    {
        Assert.Equal(allowed, OutboundAddressPolicy.IsAllowed(IPAddress.Parse(address), allowLoopback: false));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("169.254.169.254", false)]
    public void Allowing_loopback_allows_this_machine_and_nothing_else(string address, bool allowed)
    {
        Assert.Equal(allowed, OutboundAddressPolicy.IsAllowed(IPAddress.Parse(address), allowLoopback: true));
    }

    [Theory]
    [InlineData("https://127.0.0.1/logout", false, false)]
    [InlineData("https://[::ffff:a9fe:a9fe]/logout", false, false)]
    [InlineData("https://localhost:8443/logout", false, false)]
    [InlineData("https://app.localhost/logout", false, false)]
    [InlineData("https://localhost:8443/logout", true, true)]
    [InlineData("https://intranet/logout", true, false)]
    [InlineData("https://printer.local/logout", true, false)]
    [InlineData("https://10.0.0.7/logout", true, false)]
    public async Task Registered_urls_naming_internal_hosts_are_refused(string url, bool allowLoopback, bool accepted)
    {
        var problem = await OutboundAddressPolicy.CheckAsync(new Uri(url), allowLoopback);
        Assert.True(accepted == (problem is null), problem ?? "accepted");
    }

    [Fact]
    public async Task The_client_does_not_connect_to_loopback_unless_allowed()
    {
        await using var receiver = await ReceiverAsync();
        using var refusing = OutboundClient(allowLoopback: false);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => refusing.GetAsync(new Uri(receiver.Url + "/ok")));
        Assert.Contains("no public address", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, receiver.Hits);

        using var allowing = OutboundClient(allowLoopback: true);
        using var response = await allowing.GetAsync(new Uri(receiver.Url + "/ok"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, receiver.Hits);
    }

    [Fact]
    public async Task Redirects_are_not_followed_and_large_answers_are_not_read()
    {
        await using var receiver = await ReceiverAsync();
        using var client = OutboundClient(allowLoopback: true);

        using var redirect = await client.GetAsync(new Uri(receiver.Url + "/redirect"));
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal(1, receiver.Hits); // the redirect's target was never asked for

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(receiver.Url + "/large")));
    }

    private static HttpClient OutboundClient(bool allowLoopback)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Outbound:AllowLoopback"] = allowLoopback ? "true" : "false" })
            .Build();
        var services = new ServiceCollection().AddOutboundHttp(configuration).BuildServiceProvider();
        return services.GetRequiredService<IHttpClientFactory>().CreateClient(OutboundHttp.ClientName);
    }

    private static async Task<Receiver> ReceiverAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref receiver.HitCount);
            await next(context);
        });
        app.MapGet("/ok", () => "ok");
        app.MapGet("/redirect", () => Results.Redirect("/ok"));
        app.MapGet("/large", () => new string('x', 1024 * 1024));
        await app.StartAsync();
        return receiver;
    }

    private sealed class Receiver(WebApplication app) : IAsyncDisposable
    {
        public int HitCount;

        public int Hits => Volatile.Read(ref HitCount);

        public string Url => app.Urls.First();

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}
