using System.Globalization;
using System.Net;
using System.Text.Json;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static IdentityServer.Tests.Security.Hostile;

namespace IdentityServer.Tests.Security;

/// <summary>A host with tiny limits (a few requests an hour), so a short burst crosses them.</summary>
public sealed class RateLimitServer : ServerFactory
{
    public const int PerClient = 3;
    public const int PerAddress = 6;
    public const int Authorize = 3;
    public const int SignIn = 3;
    public const int AccountEmail = 2;

    /// <summary>Where the forms that send email send it (they are offered only with an SMTP server).</summary>
    public MailCatcher Mail { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(Mail.Settings)
    {
        ["RateLimits:TokenEndpointsPerClient:PermitLimit"] = PerClient.ToString(CultureInfo.InvariantCulture),
        ["RateLimits:TokenEndpointsPerClient:Window"] = "01:00:00",
        ["RateLimits:TokenEndpointsPerAddress:PermitLimit"] = PerAddress.ToString(CultureInfo.InvariantCulture),
        ["RateLimits:TokenEndpointsPerAddress:Window"] = "01:00:00",
        ["RateLimits:AuthorizePerAddress:PermitLimit"] = Authorize.ToString(CultureInfo.InvariantCulture),
        ["RateLimits:AuthorizePerAddress:Window"] = "01:00:00",
        ["RateLimits:SignInPerAddress:PermitLimit"] = SignIn.ToString(CultureInfo.InvariantCulture),
        ["RateLimits:SignInPerAddress:Window"] = "01:00:00",
        ["RateLimits:AccountEmailPerAddress:PermitLimit"] = AccountEmail.ToString(CultureInfo.InvariantCulture),
        ["RateLimits:AccountEmailPerAddress:Window"] = "01:00:00",
        // The in-process host has no peer address, which ASP.NET Core's forwarded-headers middleware takes as the
        // configured proxy: each test then chooses its client address with X-Forwarded-For.
        ["ForwardedHeaders:KnownProxies:0"] = TrustedProxy,
    };

    /// <summary>A proxy address of TEST-NET-1 (RFC 5737): configured, not loopback.</summary>
    public const string TrustedProxy = "192.0.2.10";

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Mail.Dispose();
        }
    }
}

/// <summary>
/// 429 with Retry-After once a burst passes a limit: per client_id and per address on the token endpoints (introspection
/// and revocation share the budget), per address on the authorization endpoint and on sign-in and registration POSTs.
/// The address is the one forwarded headers give (each test uses addresses of its own, so the tests do not share budgets).
/// </summary>
public sealed class RateLimitTests(RateLimitServer server) : IClassFixture<RateLimitServer>
{
    private static int _nextAddress;

    /// <summary>An address no other test uses (TEST-NET-3, RFC 5737).</summary>
    private static string NewAddress()
    {
        var n = Interlocked.Increment(ref _nextAddress);
        return $"203.0.{n / 250}.{(n % 250) + 1}";
    }

    private static Action<HttpRequestMessage> From(string address, Action<HttpRequestMessage>? also = null) => request =>
    {
        request.Headers.Add("X-Forwarded-For", address);
        also?.Invoke(request);
    };

    private static async Task<HttpResponseMessage> TokenAsync(HttpClient http, TestClient client, string address, bool basic = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new StringContent(basic
                ? "grant_type=client_credentials"
                : FormOf(("grant_type", "authorization_code"), ("code", "x"), ("client_id", client.ClientId)), System.Text.Encoding.UTF8, Form),
        };
        From(address, basic ? Basic(client) : null)(request);
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task A_client_past_its_budget_gets_429_from_any_address_while_other_clients_go_on()
    {
        var limited = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"]);
        var other = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"]);
        using var http = CreateClient(server);
        var firstAddress = NewAddress();

        for (var i = 0; i < RateLimitServer.PerClient; i++)
        {
            using var allowed = await TokenAsync(http, limited, i == 0 ? firstAddress : NewAddress());
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var refused = await TokenAsync(http, limited, NewAddress());
        await AssertTooManyRequestsJsonAsync(refused);

        using var neighbour = await TokenAsync(http, other, firstAddress);
        Assert.Equal(HttpStatusCode.OK, neighbour.StatusCode);
    }

    [Fact]
    public async Task Naming_a_client_without_its_secret_never_spends_its_budget()
    {
        var victim = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"]);
        var impostor = victim with { Secret = "not-the-secret-" + Guid.NewGuid().ToString("N") };
        using var http = CreateClient(server);

        for (var i = 0; i < RateLimitServer.PerClient * 2; i++)
        {
            using var refused = await TokenAsync(http, impostor, NewAddress());
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // The client's whole budget is still there: only authenticated requests count against it.
        for (var i = 0; i < RateLimitServer.PerClient; i++)
        {
            using var allowed = await TokenAsync(http, victim, NewAddress());
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var spent = await TokenAsync(http, victim, NewAddress());
        await AssertTooManyRequestsJsonAsync(spent);
    }

    [Fact]
    public void Only_the_configured_proxies_are_trusted_loopback_included()
    {
        var options = server.Services.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value;
        Assert.Equal([IPAddress.Parse(RateLimitServer.TrustedProxy)], options.KnownProxies);
        Assert.Empty(options.KnownIPNetworks);
    }

    [Fact]
    public async Task A_client_id_sent_in_the_form_is_counted_too()
    {
        var publicClient = await TestData.CreateClientAsync(server, confidential: false);
        using var http = CreateClient(server);

        for (var i = 0; i < RateLimitServer.PerClient; i++)
        {
            using var allowed = await TokenAsync(http, publicClient, NewAddress(), basic: false);
            Assert.Equal(HttpStatusCode.BadRequest, allowed.StatusCode); // invalid_grant: the request was served
        }

        using var refused = await TokenAsync(http, publicClient, NewAddress(), basic: false);
        await AssertTooManyRequestsJsonAsync(refused);
    }

    [Fact]
    public async Task An_address_past_its_budget_gets_429_whatever_the_client()
    {
        using var http = CreateClient(server);
        var address = NewAddress();
        for (var i = 0; i < RateLimitServer.PerAddress; i++)
        {
            var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"]);
            using var allowed = await TokenAsync(http, client, address);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        var fresh = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"]);
        using var refused = await TokenAsync(http, fresh, address);
        await AssertTooManyRequestsJsonAsync(refused);

        using var elsewhere = await TokenAsync(http, fresh, NewAddress());
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
    }

    [Fact]
    public async Task Introspection_and_revocation_share_the_client_budget()
    {
        var resourceServer = await TestData.CreateClientAsync(server, canIntrospect: true, grantTypes: ["client_credentials"]);
        using var http = CreateClient(server);
        var paths = new[] { "/connect/introspect", "/connect/revoke", "/connect/introspect" };
        foreach (var path in paths)
        {
            using var allowed = await PostAsync(http, path, "token=abc", From(NewAddress(), Basic(resourceServer)));
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var refusedRevocation = await PostAsync(http, "/connect/revoke", "token=abc", From(NewAddress(), Basic(resourceServer)));
        await AssertTooManyRequestsJsonAsync(refusedRevocation);
        using var refusedToken = await TokenAsync(http, resourceServer, NewAddress());
        await AssertTooManyRequestsJsonAsync(refusedToken);
    }

    [Fact]
    public async Task The_authorization_endpoint_limits_each_address_with_a_page()
    {
        var client = await TestData.CreateClientAsync(server);
        using var http = CreateClient(server);
        var address = NewAddress();
        var (_, challenge) = TestData.NewPkce();
        var url = OAuthFlow.AuthorizeUrl(client, challenge);
        for (var i = 0; i < RateLimitServer.Authorize; i++)
        {
            using var allowed = await GetAsync(http, url, From(address));
            Assert.Equal(HttpStatusCode.Redirect, allowed.StatusCode); // on to sign-in
        }

        using var refused = await GetAsync(http, url, From(address));
        await AssertTooManyRequestsPageAsync(refused);

        using var elsewhere = await GetAsync(http, url, From(NewAddress()));
        Assert.Equal(HttpStatusCode.Redirect, elsewhere.StatusCode);
    }

    [Fact]
    public async Task Sign_in_and_registration_POSTs_share_a_strict_budget_per_address_while_the_form_still_shows()
    {
        var user = await TestData.CreateUserAsync(server);
        using var http = CreateClient(server);
        var address = NewAddress();
        for (var i = 0; i < RateLimitServer.SignIn; i++)
        {
            using var failed = await SignInAsync(http, user.UserName!, "wrong " + i, address);
            Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        }

        var failuresBefore = await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.AccessFailedCount).SingleAsync());
        var auditBefore = await server.WithDatabaseAsync(db => db.AuditEntries.CountAsync(e => e.Kind == AuditKinds.SignIn));
        using var refused = await SignInAsync(http, user.UserName!, TestData.Password, address);
        await AssertTooManyRequestsPageAsync(refused);
        // Refused before the page ran: no password was tried, nothing recorded.
        Assert.Equal(failuresBefore, await server.WithDatabaseAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.AccessFailedCount).SingleAsync()));
        Assert.Equal(auditBefore, await server.WithDatabaseAsync(db => db.AuditEntries.CountAsync(e => e.Kind == AuditKinds.SignIn)));

        using var registration = await PostPageAsync(http, "/account/register", address,
            ("UserName", "new" + Guid.NewGuid().ToString("N")[..8]), ("Email", "x@example.com"), ("Password", TestData.Password), ("ConfirmPassword", TestData.Password));
        await AssertTooManyRequestsPageAsync(registration);

        using var form = await GetAsync(http, "/account/login", From(address));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);

        using var elsewhere = await SignInAsync(http, user.UserName!, TestData.Password, NewAddress());
        Assert.Equal(HttpStatusCode.Redirect, elsewhere.StatusCode);
    }

    [Fact]
    public async Task Forms_that_send_email_have_a_budget_per_address_of_their_own()
    {
        using var http = CreateClient(server);
        var address = NewAddress();
        for (var i = 0; i < RateLimitServer.AccountEmail; i++)
        {
            using var answered = await PostPageAsync(http, "/account/forgot-password", address, ("Email", $"someone{i}@example.com"));
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        using var refused = await PostPageAsync(http, "/account/forgot-password", address, ("Email", "someone@example.com"));
        await AssertTooManyRequestsPageAsync(refused);
        // The sign-in budget of the address is untouched, and the form still shows.
        using var form = await GetAsync(http, "/account/forgot-password", From(address));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        using var signIn = await SignInAsync(http, "nobody", "wrong password", address);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
    }

    [Fact]
    public async Task IPv6_addresses_of_one_64_prefix_share_a_budget()
    {
        var client = await TestData.CreateClientAsync(server);
        using var http = CreateClient(server);
        var (_, challenge) = TestData.NewPkce();
        var url = OAuthFlow.AuthorizeUrl(client, challenge);
        var prefix = $"2001:db8:{Interlocked.Increment(ref _nextAddress):x}:1::";
        for (var i = 0; i < RateLimitServer.Authorize; i++)
        {
            using var allowed = await GetAsync(http, url, From(prefix + (i + 1).ToString(CultureInfo.InvariantCulture)));
            Assert.Equal(HttpStatusCode.Redirect, allowed.StatusCode);
        }

        using var refused = await GetAsync(http, url, From(prefix + "ffff"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
    }

    [Fact]
    public void The_defaults_let_machine_traffic_through_and_brake_password_guessing()
    {
        var defaults = RateLimitOptions.Read(new ConfigurationBuilder().Build());

        Assert.True(defaults.Enabled);
        Assert.True(defaults.TokenEndpointsPerClient.PermitLimit / defaults.TokenEndpointsPerClient.Window.TotalSeconds >= 10_000);
        Assert.True(defaults.TokenEndpointsPerAddress.PermitLimit / defaults.TokenEndpointsPerAddress.Window.TotalSeconds >= 10_000);
        Assert.True(defaults.AuthorizePerAddress.PermitLimit / defaults.AuthorizePerAddress.Window.TotalSeconds >= 10_000);
        Assert.Equal(10, defaults.SignInPerAddress.PermitLimit);
        Assert.Equal(TimeSpan.FromMinutes(1), defaults.SignInPerAddress.Window);
    }

    [Theory]
    [InlineData("RateLimits:SignInPerAddress:PermitLimit", "0")]
    [InlineData("RateLimits:TokenEndpointsPerClient:Window", "00:00:00")]
    [InlineData("RateLimits:AuthorizePerAddress:PermitLimit", "-5")]
    public void A_limit_that_is_not_positive_stops_startup_naming_the_setting(string setting, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(setting, value)]).Build();

        var error = Assert.Throws<StartupConfigurationException>(() => RateLimitOptions.Read(configuration));
        Assert.Equal(setting, error.Setting);
    }

    private static async Task AssertTooManyRequestsJsonAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        AssertRetryAfter(response);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("temporarily_unavailable", body.GetProperty("error").GetString());
        Assert.Contains("retry", body.GetProperty("error_description").GetString()!, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    private static async Task AssertTooManyRequestsPageAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        AssertRetryAfter(response);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Too many attempts", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    private static void AssertRetryAfter(HttpResponseMessage response)
    {
        var seconds = int.Parse(response.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, 3600);
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string url, Action<HttpRequestMessage> configure)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        configure(request);
        return await http.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string url, string form, Action<HttpRequestMessage> configure)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(form, System.Text.Encoding.UTF8, Form) };
        configure(request);
        return await http.SendAsync(request);
    }

    private static Task<HttpResponseMessage> SignInAsync(HttpClient http, string username, string password, string address) =>
        PostPageAsync(http, "/account/login", address, ("Username", username), ("Password", password));

    /// <summary>A form POST with a fresh antiforgery token (the GET of the form is not limited).</summary>
    private static async Task<HttpResponseMessage> PostPageAsync(HttpClient http, string path, string address, params (string, string)[] fields)
    {
        using var page = await GetAsync(http, path, From(address));
        var token = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        return await PostAsync(http, path, FormOf([.. fields, ("__RequestVerificationToken", token)]), From(address));
    }
}
