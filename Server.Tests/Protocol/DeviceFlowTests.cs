using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityServer.Data;
using IdentityServer.Jobs;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// The device authorization grant (RFC 8628) over HTTP: the device authorization response, each polling answer
/// (authorization_pending, slow_down, access_denied, expired_token, invalid_grant), the user-code page, the tokens of an
/// approved code, who may use it, what is stored, audit and pruning.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed partial class DeviceFlowTests(SqliteServer server)
{
    private readonly TokenChecks _tokens = new(server);

    [Fact]
    public async Task The_device_authorization_response_has_every_member_and_stores_only_hashes()
    {
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();

        var (status, body, response) = await DeviceFlow.RequestAsync(http, client);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var deviceCode = body.GetProperty("device_code").GetString()!;
        var userCode = body.GetProperty("user_code").GetString()!;
        Assert.Equal(43, deviceCode.Length);
        // §6.1: short, from an alphabet without vowels or look-alikes, shown in two halves.
        Assert.Matches(UserCodeFormat(), userCode);
        Assert.Equal(ServerFactory.Issuer + "/device", body.GetProperty("verification_uri").GetString());
        Assert.Equal(ServerFactory.Issuer + "/device?user_code=" + userCode, body.GetProperty("verification_uri_complete").GetString());
        Assert.Equal(600, body.GetProperty("expires_in").GetInt32());
        Assert.Equal(5, body.GetProperty("interval").GetInt32());

        var row = await server.WithDatabaseAsync(db => db.DeviceCodes.AsNoTracking().SingleAsync(d => d.ApplicationId == client.ApplicationId));
        Assert.Equal(OpaqueToken.Hash(deviceCode), row.DeviceCodeHash);
        var stored = JsonSerializer.Serialize(row);
        Assert.DoesNotContain(deviceCode, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(userCode.Replace("-", "", StringComparison.Ordinal), stored, StringComparison.Ordinal);
        Assert.Equal(DeviceCodeStatuses.Pending, row.Status);

        using var discovery = JsonDocument.Parse(await http.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative)));
        Assert.Equal(ServerFactory.Issuer + "/connect/device", discovery.RootElement.GetProperty("device_authorization_endpoint").GetString());
    }

    [Fact]
    public async Task An_approved_code_gives_access_id_and_refresh_tokens_once()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        using var browser = new BrowserSession(server);
        var device = await DeviceFlow.StartAsync(http, client);

        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "authorization_pending");
        var page = await DeviceFlow.AnswerAsync(browser, device.UserCode, user.UserName!, "approve");
        Assert.Contains("Device connected", page, StringComparison.Ordinal);

        var result = await DeviceFlow.PollAsync(http, client, device.DeviceCode);
        var body = TokenEndpointTests.AssertTokenResponse(result, "openid profile email offline_access");
        var access = await _tokens.AccessTokenAsync(body.GetProperty("access_token").GetString()!, ServerFactory.Issuer, client.ClientId, user.Id);
        Assert.Equal("openid profile email offline_access", access.GetClaim("scope").Value);
        var idToken = await _tokens.TryValidateAsync(body.GetProperty("id_token").GetString()!, client.ClientId, validTypes: null);
        Assert.True(idToken.IsValid, idToken.Exception?.Message);
        var id = (JsonWebToken)idToken.SecurityToken;
        Assert.Equal(user.Id, id.Subject);
        Assert.Equal(user.Email, id.GetClaim("email").Value);
        Assert.Equal(TokenChecks.AtHash(body.GetProperty("access_token").GetString()!, id.Alg), id.GetClaim("at_hash").Value);
        // The device is not part of the browser session that approved it.
        Assert.False(id.TryGetPayloadValue<string>("sid", out _));

        // The refresh token works like the code flow's.
        var refreshed = await TokenChecks.PostAsync(http, "/connect/token", client, new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = body.GetProperty("refresh_token").GetString()!,
        });
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);

        // Exactly one token response per approved code.
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "invalid_grant");

        // Consent is remembered as on the consent page, and the story is in the audit log.
        var (consent, actions) = await server.WithDatabaseAsync(async db => (
            await db.Authorizations.AsNoTracking().SingleAsync(a => a.ApplicationId == client.ApplicationId && a.Type == AuthorizationTypes.Permanent),
            await db.AuditEntries.AsNoTracking().Where(e => e.ClientId == client.ClientId).Select(e => e.Action).ToListAsync()));
        Assert.Equal(user.Id, consent.Subject);
        Assert.Equal(["email", "offline_access", "openid", "profile"], consent.Scopes.Split(' '));
        Assert.Contains("device_authorization.started", actions);
        Assert.Contains("device_authorization.approved", actions);
        Assert.Contains("consent.granted", actions);
        Assert.Contains("device_code.redeemed", actions);
    }

    [Fact]
    public async Task Without_offline_access_there_is_no_refresh_token_and_an_api_scope_sets_the_audience()
    {
        var api = "api-" + Guid.NewGuid().ToString("N")[..8];
        var resource = $"https://{api}.example/";
        await TestData.CreateScopeAsync(server, api, resource);
        var user = await TestData.CreateUserAsync(server);
        var client = await DeviceFlow.CreateClientAsync(server, confidential: true, api);
        using var http = server.CreateClient();
        using var browser = new BrowserSession(server);
        var device = await DeviceFlow.StartAsync(http, client, api);

        await DeviceFlow.AnswerAsync(browser, device.UserCode, user.UserName!, "approve");
        var body = TokenEndpointTests.AssertTokenResponse(await DeviceFlow.PollAsync(http, client, device.DeviceCode), api);

        Assert.False(body.TryGetProperty("refresh_token", out _));
        Assert.False(body.TryGetProperty("id_token", out _));
        var access = await _tokens.AccessTokenAsync(body.GetProperty("access_token").GetString()!, resource, client.ClientId, user.Id);
        Assert.Equal([resource], access.Audiences);
        Assert.Equal(0, await server.WithDatabaseAsync(db => db.Tokens.CountAsync(t => t.ApplicationId == client.ApplicationId)));
    }

    [Fact]
    public async Task A_denied_code_is_access_denied_until_it_expires()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        using var browser = new BrowserSession(server);
        var device = await DeviceFlow.StartAsync(http, client);

        var page = await DeviceFlow.AnswerAsync(browser, device.UserCode, user.UserName!, "deny");
        Assert.Contains("Request denied", page, StringComparison.Ordinal);

        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "access_denied");
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "access_denied");
        Assert.Contains("device_authorization.denied",
            await server.WithDatabaseAsync(db => db.AuditEntries.Where(e => e.ClientId == client.ClientId).Select(e => e.Action).ToListAsync()));

        // An answered code cannot be answered again on the page.
        var again = await BrowserSession.ReadPageAsync(await DeviceFlow.OpenAsync(browser, device.UserCode, user.UserName!));
        Assert.NotNull(again.QuerySelector(".error"));
        Assert.Null(again.QuerySelector("button[value=approve]"));
    }

    [Fact]
    public async Task Polling_faster_than_the_interval_is_slow_down_and_the_interval_grows_by_five_seconds()
    {
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        var device = await DeviceFlow.StartAsync(http, client);

        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "authorization_pending");
        // §3.5: too soon, and the interval is now 10 s for this and every later request.
        var slow = await DeviceFlow.PollAsync(http, client, device.DeviceCode);
        TokenChecks.AssertTokenError(slow, "slow_down");
        Assert.Contains("10 seconds", slow.Body.GetProperty("error_description").GetString(), StringComparison.Ordinal);

        server.Time.Advance(TimeSpan.FromSeconds(9));
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "slow_down"); // now 15 s
        server.Time.Advance(TimeSpan.FromSeconds(15));
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "authorization_pending");
        server.Time.Advance(TimeSpan.FromSeconds(15));
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "authorization_pending");
    }

    [Fact]
    public async Task Polls_racing_within_one_interval_get_one_authorization_pending()
    {
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        var device = await DeviceFlow.StartAsync(http, client);

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => DeviceFlow.PollAsync(http, client, device.DeviceCode)));

        Assert.Single(results, r => r.Body.GetProperty("error").GetString() == "authorization_pending");
        Assert.All(results.Where(r => r.Body.GetProperty("error").GetString() != "authorization_pending"), r => TokenChecks.AssertTokenError(r, "slow_down"));
    }

    [Fact]
    public async Task An_expired_code_is_expired_token_and_its_user_code_is_no_longer_accepted()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        using var browser = new BrowserSession(server);
        var device = await DeviceFlow.StartAsync(http, client);

        server.Time.Advance(TimeSpan.FromSeconds(device.ExpiresIn + 1));

        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "expired_token");
        var page = await BrowserSession.ReadPageAsync(await DeviceFlow.OpenAsync(browser, device.UserCode, user.UserName!));
        Assert.Contains("not valid", page.QuerySelector(".error")?.TextContent, StringComparison.Ordinal);
        Assert.Null(page.QuerySelector("button[value=approve]"));
    }

    [Fact]
    public async Task An_approval_after_expiry_is_refused_and_the_code_stays_expired()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        using var browser = new BrowserSession(server);
        var device = await DeviceFlow.StartAsync(http, client);
        var confirmation = await DeviceFlow.OpenAsync(browser, device.UserCode, user.UserName!);

        server.Time.Advance(TimeSpan.FromSeconds(device.ExpiresIn + 1));
        var answered = await BrowserSession.ReadPageAsync(await browser.SubmitAsync(confirmation, [], pressButtonValue: "approve"));

        Assert.NotNull(answered.QuerySelector(".error"));
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, client, device.DeviceCode), "expired_token");
    }

    [Fact]
    public async Task The_page_accepts_the_code_in_any_case_with_or_without_the_dash_and_shows_the_app_and_scopes()
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        using var browser = new BrowserSession(server);
        var device = await DeviceFlow.StartAsync(http, client, "openid email");

        // Typed on the form, not from the link: lower case, no dash, spaces around.
        var form = await browser.GetAsync("/device");
        form = await OAuthFlow.SignInAsync(browser, form, user.UserName!);
        var typed = " " + device.UserCode.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant() + " ";
        var confirmation = await BrowserSession.ReadPageAsync(await browser.SubmitAsync(form, new() { ["user_code"] = typed }));

        Assert.Contains("Test app " + client.ClientId, confirmation.QuerySelector("h1")?.TextContent, StringComparison.Ordinal);
        Assert.Equal(device.UserCode, confirmation.QuerySelector(".user-code")?.TextContent.Trim());
        Assert.Equal(2, confirmation.QuerySelectorAll("ul.scopes li").Length);
        Assert.NotNull(confirmation.QuerySelector("button[value=approve]"));
    }

    [Fact]
    public async Task The_page_requires_sign_in_before_it_looks_at_a_code()
    {
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        using var browser = new BrowserSession(server);
        var device = await DeviceFlow.StartAsync(http, client);

        var page = await browser.GetAsync("/device?user_code=" + device.UserCode);

        Assert.Equal("/account/login", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains(Uri.EscapeDataString("/device?user_code=" + device.UserCode), page.RequestMessage.RequestUri.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_clients_permitted_the_device_grant_may_start_or_poll()
    {
        var codeOnly = await TestData.CreateClientAsync(server, confidential: false);
        var permitted = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();

        TokenChecks.AssertTokenError(await DeviceFlow.RequestAsync(http, codeOnly), "unauthorized_client");
        var device = await DeviceFlow.StartAsync(http, permitted);
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, codeOnly, device.DeviceCode), "unauthorized_client");
    }

    [Fact]
    public async Task Another_clients_device_code_an_unknown_one_and_a_missing_one_are_refused()
    {
        var owner = await DeviceFlow.CreateClientAsync(server);
        var other = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        var device = await DeviceFlow.StartAsync(http, owner);

        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, other, device.DeviceCode), "invalid_grant");
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, owner, OpaqueToken.Create().Value), "invalid_grant");
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, owner, "not-a-device-code"), "invalid_grant");
        TokenChecks.AssertTokenError(await TokenChecks.PostAsync(http, "/connect/token", owner, new() { ["grant_type"] = DeviceFlow.GrantType }), "invalid_request");
        // The owner's code is untouched by the others' attempts.
        TokenChecks.AssertTokenError(await DeviceFlow.PollAsync(http, owner, device.DeviceCode), "authorization_pending");
    }

    [Fact]
    public async Task Bad_requests_to_the_device_endpoint_are_oauth_errors()
    {
        var client = await DeviceFlow.CreateClientAsync(server, confidential: true);
        using var http = server.CreateClient();

        TokenChecks.AssertTokenError(await DeviceFlow.RequestAsync(http, client, "openid not-a-scope-" + Guid.NewGuid().ToString("N")[..6]), "invalid_scope");
        TokenChecks.AssertTokenError(await DeviceFlow.RequestAsync(http, client, "openid", ("resource", "https://unknown.example/")), "invalid_target");
        TokenChecks.AssertTokenError(await DeviceFlow.RequestAsync(http, client with { Secret = "wrong" }), "invalid_client", HttpStatusCode.Unauthorized);
        var unknown = new TestClient("unknown-" + Guid.NewGuid().ToString("N")[..8], null, "https://x.example/cb", "");
        TokenChecks.AssertTokenError(await DeviceFlow.RequestAsync(http, unknown), "invalid_client", HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Expired_device_codes_are_pruned()
    {
        var client = await DeviceFlow.CreateClientAsync(server);
        using var http = server.CreateClient();
        await DeviceFlow.StartAsync(http, client);

        server.Time.Advance(TimeSpan.FromMinutes(10) + new PruningOptions().Retention + TimeSpan.FromMinutes(1));
        await server.Services.GetRequiredService<PruneService>().RunAsync(CancellationToken.None);

        Assert.False(await server.WithDatabaseAsync(db => db.DeviceCodes.AnyAsync(d => d.ApplicationId == client.ApplicationId)));
    }

    [Theory]
    [InlineData("bcdf-ghjk", "BCDFGHJK")]
    [InlineData(" BCDF GHJK ", "BCDFGHJK")]
    [InlineData("BCDFGHJK", "BCDFGHJK")]
    [InlineData("BCDF-GHJA", null)] // a vowel is never in a code
    [InlineData("BCDF-GHJ", null)]
    [InlineData("BCDF-GHJKL", null)]
    [InlineData("", null)]
    public void User_codes_are_normalized_before_lookup(string typed, string? expected) => Assert.Equal(expected, UserCode.Normalize(typed));

    [Fact]
    public void New_user_codes_use_only_the_unambiguous_alphabet()
    {
        for (var i = 0; i < 200; i++)
        {
            Assert.Matches(UserCodeFormat(), UserCode.Create());
        }
    }

    [GeneratedRegex("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")]
    private static partial Regex UserCodeFormat();
}
