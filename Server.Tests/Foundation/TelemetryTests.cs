using System.Net;
using System.Net.Http.Headers;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// The Prometheus scrape endpoint: off unless configured, behind its scrape token when one is set, and carrying the
/// server's own counters (tokens issued by grant and client, introspections, sign-ins by method and result).
/// </summary>
[Collection(MeteredServers.Name)]
public sealed class TelemetryTests(TelemetryTests.MetricsServer server) : IClassFixture<TelemetryTests.MetricsServer>
{
    private const string ScrapeToken = "scrape-token-for-tests";

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token")]
    [InlineData("Basic c2NyYXBlOnNjcmFwZQ==")]
    public async Task A_scrape_without_the_token_is_refused(string? authorization)
    {
        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("identityserver_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Issued_tokens_and_introspections_are_counted_by_grant_and_client()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: [], canIntrospect: true);
        using var http = server.CreateClient();
        var tokenLine = Series("identityserver_tokens_issued_total", ("client_id", client.ClientId), ("grant_type", "client_credentials"));

        Assert.Equal(0, Value(await ScrapeAsync(http), tokenLine));
        var (_, body, _) = await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials" });
        await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials" });
        // A refused request is not an issued token.
        await OAuthFlow.PostTokenAsync(http, client, new() { ["grant_type"] = "client_credentials", ["scope"] = "no-such-scope" });

        var activeLine = Series("identityserver_introspections_total", ("active", "true"), ("token_type", "access_token"));
        var before = Value(await ScrapeAsync(http), activeLine);
        using var introspection = new HttpRequestMessage(HttpMethod.Post, "/connect/introspect")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["token"] = body.GetProperty("access_token").GetString()!,
                ["client_id"] = client.ClientId,
                ["client_secret"] = client.Secret!,
            }),
        };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(introspection)).StatusCode);

        var scrape = await ScrapeAsync(http);
        Assert.Equal(2, Value(scrape, tokenLine));
        // Other test servers in this process count into the same meter name (a server process has one): at least ours.
        Assert.True(Value(scrape, activeLine) >= before + 1);
    }

    [Fact]
    public async Task Password_sign_ins_are_counted_by_result_and_reason()
    {
        var user = await TestData.CreateUserAsync(server);
        using var http = server.CreateClient();
        var failureLine = Series("identityserver_sign_ins_total", ("method", "password"), ("reason", "wrong_password"), ("result", "failure"));
        var successLine = Series("identityserver_sign_ins_total", ("method", "password"), ("reason", "none"), ("result", "success"));
        var before = await ScrapeAsync(http);

        using (var browser = new BrowserSession(server))
        {
            await browser.SubmitAsync(await browser.GetAsync("/account/login"), new() { ["Username"] = user.UserName!, ["Password"] = "not the password" });
        }

        using (var browser = new BrowserSession(server))
        {
            await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login"), user.UserName!);
        }

        var after = await ScrapeAsync(http);
        // Other test servers in this process sign people in too, into the same meter name: at least ours are counted.
        Assert.True(Value(after, failureLine) >= Value(before, failureLine) + 1);
        Assert.True(Value(after, successLine) >= Value(before, successLine) + 1);
    }

    private static async Task<string> ScrapeAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ScrapeToken);
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>A series: the metric's name and its labels as the exposition format writes them (the exporter adds otel_scope_name).</summary>
    private static string Series(string metric, params (string Name, string Value)[] labels) =>
        metric + "{" + string.Join(",", new[] { ("otel_scope_name", "IdentityServer") }.Concat(labels).Select(l => $"{l.Item1}=\"{l.Item2}\"")) + "}";

    /// <summary>The sample value of <paramref name="series"/> in a scrape, or 0 when it has no line yet.</summary>
    private static double Value(string scrape, string series)
    {
        var line = scrape.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    public sealed class MetricsServer : ServerFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Telemetry:Prometheus:Enabled"] = "true",
            ["Telemetry:Prometheus:ScrapeToken"] = ScrapeToken,
        };
    }
}

/// <summary>Scraping is off by default. (Its own class: disposing this server would stop <see cref="TelemetryTests"/>' counters.)</summary>
public sealed class MetricsOffByDefaultTests
{
    [Fact]
    public async Task Metrics_are_not_served_unless_configured()
    {
        using var plain = new SqliteServer();
        using var http = plain.CreateClient();

        var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

/// <summary>
/// Servers whose exporter counts the <c>IdentityServer</c> meter run alone, after the parallel tests. Every test server in
/// the process creates a meter of that name, and OpenTelemetry merges same-named meters into one stream that it drops
/// when any of them is disposed (open-telemetry/opentelemetry-dotnet#6412): another test's server shutting down mid-test
/// would silently stop our counters. A server process has one host, so this is a test-only concern.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeteredServers
{
    public const string Name = "Metered servers";
}
