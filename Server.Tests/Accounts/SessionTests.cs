using System.Net;
using System.Security.Claims;
using System.Text.Json;
using IdentityServer.Accounts.Sessions;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Accounts;

/// <summary>Server-side sessions, RP-initiated logout, "devices and apps", sign out everywhere, back-channel logout.</summary>
public sealed class SessionTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private const string PostLogoutUri = "https://rp.example/signed-out";

    /// <summary>A second in-process instance on the same database and data-protection keys.</summary>
    private sealed class SecondInstance(string dataDirectory) : ServerFactory(dataDirectory)
    {
        protected override bool OwnsDataDirectory => false;
    }

    private async Task<(BrowserSession Browser, TestClient Client, string UserName, JsonElement Tokens)> SignInAsync(ClientSettings? settings = null)
    {
        var client = await TestData.CreateClientAsync(server, postLogoutRedirectUris: [PostLogoutUri], settings: settings, canIntrospect: true);
        var user = await TestData.CreateUserAsync(server);
        var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge);
        var (status, tokens, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        return (browser, client, user.UserName!, tokens);
    }

    private static async Task<bool> IsSignedInAsync(BrowserSession browser, TestClient client)
    {
        var (_, challenge) = TestData.NewPkce();
        var response = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge, extra: ("prompt", "none")));
        return OAuthFlow.CallbackParameters(response, client).ContainsKey("code");
    }

    private async Task<int> SessionCountAsync(string userName) =>
        await server.WithDatabaseAsync(db => db.Sessions.CountAsync(s => db.Users.Any(u => u.UserName == userName && u.Id == s.Subject)));

    [Fact]
    public async Task The_cookie_holds_only_a_session_id_and_the_session_lives_in_the_database()
    {
        var (browser, client, userName, tokens) = await SignInAsync();
        using (browser)
        {
            Assert.Equal(1, await SessionCountAsync(userName));
            var sid = new JsonWebToken(tokens.GetProperty("id_token").GetString()).GetPayloadValue<string>("sid");
            Assert.True(await server.WithDatabaseAsync(db => db.Sessions.AnyAsync(s => s.Sid == sid)), "the ID token's sid names the stored session");
            Assert.True(await IsSignedInAsync(browser, client));
        }
    }

    [Fact]
    public async Task A_read_of_the_sessions_table_yields_nothing_that_signs_anyone_in()
    {
        var (browser, client, userName, tokens) = await SignInAsync();
        using (browser)
        {
            var sid = new JsonWebToken(tokens.GetProperty("id_token").GetString()).GetPayloadValue<string>("sid");
            var cookie = Assert.Single(browser.Cookies.GetCookies(Site), c => c.Name.EndsWith("idsrv.session", StringComparison.Ordinal));
            var row = Assert.Single(await server.WithDatabaseAsync(db => db.Sessions.AsNoTracking()
                .Where(s => db.Users.Any(u => u.UserName == userName && u.Id == s.Subject)).ToListAsync()));

            // The cookie, opened with the server's own ticket format, carries a key that is neither the row's id nor the sid:
            // the row holds only the key's SHA-256.
            var key = SessionKeyIn(cookie.Value);
            Assert.NotEqual(sid, row.Id);
            Assert.NotEqual(key, row.Id);
            Assert.NotEqual(key, sid);
            Assert.Equal(OpaqueToken.Hash(key), row.Id);
            Assert.DoesNotContain(row.Id, cookie.Value, StringComparison.Ordinal);
            Assert.Equal(sid, row.Sid);

            // A cookie forged (with the server's own keys) from what the database holds signs nobody in; the same forgery
            // around the real key does, so it is the stored value that falls short, not the forgery.
            using var fromRowId = BrowserWithSessionKey(cookie.Name, row.Id);
            using var fromSid = BrowserWithSessionKey(cookie.Name, sid);
            using var fromKey = BrowserWithSessionKey(cookie.Name, key);
            Assert.False(await IsSignedInAsync(fromRowId, client), "a cookie made from the row's id");
            Assert.False(await IsSignedInAsync(fromSid, client), "a cookie made from the sid");
            Assert.True(await IsSignedInAsync(fromKey, client), "a cookie made from the real key");

            var store = server.Services.GetRequiredService<DatabaseTicketStore>();
            Assert.Null(await store.RetrieveAsync(row.Id));
            Assert.NotNull(await store.RetrieveAsync(key));
        }
    }

    private static readonly Uri Site = new("https://localhost/");

    private CookieAuthenticationOptions SessionCookieOptions =>
        server.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(IdentityConstants.ApplicationScheme);

    private string SessionKeyIn(string cookieValue) =>
        SessionCookieOptions.TicketDataFormat.Unprotect(cookieValue)!.Principal.FindFirst(CookieSessionKeyClaim)!.Value;

    // The claim the cookie handler keeps the ticket store's key in (CookieAuthenticationHandler.SessionIdClaim).
    private const string CookieSessionKeyClaim = "Microsoft.AspNetCore.Authentication.Cookies-SessionId";

    /// <summary>A browser whose session cookie is protected exactly as the server protects its own, around <paramref name="key"/>.</summary>
    private BrowserSession BrowserWithSessionKey(string cookieName, string key)
    {
        var scheme = IdentityConstants.ApplicationScheme;
        var identity = new ClaimsIdentity([new Claim(CookieSessionKeyClaim, key)], scheme);
        var value = SessionCookieOptions.TicketDataFormat.Protect(new AuthenticationTicket(new ClaimsPrincipal(identity), null, scheme));
        var jar = new CookieContainer();
        jar.Add(Site, new Cookie(cookieName, value, "/"));
        return new BrowserSession(server, jar);
    }

    [Fact]
    public async Task A_sign_in_over_an_existing_session_gets_a_new_session_key_and_the_old_cookie_stops_working()
    {
        // Session fixation: whoever holds the cookie from before a sign-in (planted it, or copied it) must not ride it.
        var (browser, client, _, tokens) = await SignInAsync();
        using (browser)
        {
            var site = new Uri("https://localhost/");
            var before = Assert.Single(browser.Cookies.GetCookies(site), c => c.Name.EndsWith("idsrv.session", StringComparison.Ordinal));
            var oldSid = new JsonWebToken(tokens.GetProperty("id_token").GetString()).GetPayloadValue<string>("sid");
            var copy = new CookieContainer();
            copy.Add(site, new Cookie(before.Name, before.Value, "/"));

            var other = await TestData.CreateUserAsync(server);
            var (verifier, challenge) = TestData.NewPkce();
            var callback = await OAuthFlow.AuthorizeAsync(browser, client, other.UserName!, challenge, extra: ("prompt", "login"));
            var (status, second, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
            Assert.Equal(HttpStatusCode.OK, status);

            var after = Assert.Single(browser.Cookies.GetCookies(site), c => c.Name == before.Name);
            Assert.NotEqual(before.Value, after.Value);
            var newSid = new JsonWebToken(second.GetProperty("id_token").GetString()).GetPayloadValue<string>("sid");
            Assert.NotEqual(oldSid, newSid);
            Assert.False(await server.WithDatabaseAsync(db => db.Sessions.AnyAsync(s => s.Sid == oldSid)), "the old session row is gone");
            Assert.True(await server.WithDatabaseAsync(db => db.Sessions.AnyAsync(s => s.Sid == newSid && s.Subject == other.Id)));

            Assert.True(await IsSignedInAsync(browser, client));
            using var holderOfOldCookie = new BrowserSession(server, copy);
            Assert.False(await IsSignedInAsync(holderOfOldCookie, client));
        }
    }

    [Fact]
    public async Task A_changed_security_stamp_ends_the_session_once_the_validation_interval_has_passed()
    {
        var (browser, client, userName, _) = await SignInAsync();
        using (browser)
        {
            await server.WithDatabaseAsync(db => db.Users.Where(u => u.UserName == userName)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.SecurityStamp, Guid.NewGuid().ToString("N"))));

            // Identity looks at the stamp once per ValidationInterval (30 minutes), not on every request.
            Assert.True(await IsSignedInAsync(browser, client));
            server.Time.Advance(TimeSpan.FromMinutes(31));
            Assert.False(await IsSignedInAsync(browser, client));
        }
    }

    [Fact]
    public async Task A_session_ended_from_the_devices_page_no_longer_signs_anyone_in_even_on_another_instance()
    {
        var (browser, client, userName, tokens) = await SignInAsync();
        using (browser)
        {
            var mySessionId = new JsonWebToken(tokens.GetProperty("id_token").GetString()).GetPayloadValue<string>("sid");
            // A second browser of the same person, so the first can end it from its devices page.
            using var other = new BrowserSession(server);
            var (_, challenge) = TestData.NewPkce();
            await OAuthFlow.AuthorizeAsync(other, client, userName, challenge);
            Assert.Equal(2, await SessionCountAsync(userName));

            // The same browser on a second instance sharing the database: signed in there too, until the session ends.
            using var secondInstance = new SecondInstance(server.DataDirectory);
            using var otherOnSecondInstance = new BrowserSession(secondInstance, other.Cookies);
            Assert.True(await IsSignedInAsync(otherOnSecondInstance, client));

            var devices = await browser.GetAsync("/account/devices");
            Assert.Equal(HttpStatusCode.OK, devices.StatusCode);
            var page = await BrowserSession.ReadPageAsync(devices);
            var forms = page.QuerySelectorAll("form[action*='EndSession']").ToList();
            Assert.Equal(2, forms.Count);
            Assert.Contains("(this device)", page.Body!.TextContent, StringComparison.Ordinal);

            var otherSessionId = await server.WithDatabaseAsync(db => db.Sessions
                .Where(s => db.Users.Any(u => u.UserName == userName && u.Id == s.Subject) && s.Sid != mySessionId)
                .Select(s => s.Sid).SingleAsync());
            var ended = await browser.SubmitAsync(devices, new() { ["sessionId"] = otherSessionId }, formSelector: "form[action*='EndSession']");
            Assert.Equal(HttpStatusCode.OK, ended.StatusCode);

            Assert.False(await IsSignedInAsync(other, client));
            Assert.False(await IsSignedInAsync(otherOnSecondInstance, client));
            Assert.True(await IsSignedInAsync(browser, client));
            Assert.Equal(1, await SessionCountAsync(userName));
        }
    }

    [Fact]
    public async Task Logout_with_id_token_hint_ends_the_session_revokes_the_family_and_echoes_state()
    {
        var (browser, client, _, tokens) = await SignInAsync();
        using (browser)
        {
            var url = "/connect/endsession?id_token_hint=" + Uri.EscapeDataString(tokens.GetProperty("id_token").GetString()!)
                + "&post_logout_redirect_uri=" + Uri.EscapeDataString(PostLogoutUri) + "&state=bye-42";
            var response = await browser.GetAsync(url);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal(PostLogoutUri + "?state=bye-42", response.Headers.Location!.ToString());

            Assert.False(await IsSignedInAsync(browser, client));
            var (refreshStatus, body, _) = await OAuthFlow.PostTokenAsync(browser.Http, client,
                new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()! });
            Assert.Equal(HttpStatusCode.BadRequest, refreshStatus);
            Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task Logout_without_hint_asks_for_confirmation_first()
    {
        var (browser, client, _, _) = await SignInAsync();
        using (browser)
        {
            var confirm = await browser.GetAsync("/connect/endsession?client_id=" + client.ClientId
                + "&post_logout_redirect_uri=" + Uri.EscapeDataString(PostLogoutUri) + "&state=s1");
            Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
            Assert.Contains("Sign out?", await confirm.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.True(await IsSignedInAsync(browser, client), "nothing happens before the person confirms");

            var done = await browser.SubmitAsync(confirm, []);
            Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
            Assert.Equal(PostLogoutUri + "?state=s1", done.Headers.Location!.ToString());
            Assert.False(await IsSignedInAsync(browser, client));
        }
    }

    [Fact]
    public async Task An_unregistered_post_logout_uri_is_never_redirected_to()
    {
        var (browser, client, _, tokens) = await SignInAsync();
        using (browser)
        {
            var response = await browser.Http.GetAsync(new Uri("/connect/endsession?id_token_hint=" + Uri.EscapeDataString(tokens.GetProperty("id_token").GetString()!)
                + "&post_logout_redirect_uri=" + Uri.EscapeDataString("https://evil.example/"), UriKind.Relative));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Null(response.Headers.Location);
            Assert.True(await IsSignedInAsync(browser, client), "a refused logout request ends nothing");
        }
    }

    [Fact]
    public async Task Sign_out_everywhere_refuses_refresh_makes_access_tokens_inactive_and_ends_every_session()
    {
        var (browser, client, userName, tokens) = await SignInAsync();
        using (browser)
        {
            var devices = await browser.GetAsync("/account/devices");
            var done = await browser.SubmitAsync(devices, [], formSelector: "form[action*='Everywhere']");
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            Assert.Equal(0, await SessionCountAsync(userName));

            var (refreshStatus, _, _) = await OAuthFlow.PostTokenAsync(browser.Http, client,
                new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()! });
            Assert.Equal(HttpStatusCode.BadRequest, refreshStatus);

            using var introspection = new HttpRequestMessage(HttpMethod.Post, "/connect/introspect")
            {
                Content = new FormUrlEncodedContent([new("token", tokens.GetProperty("access_token").GetString()!), new("client_id", client.ClientId), new("client_secret", client.Secret!)]),
            };
            var answer = await browser.Http.SendAsync(introspection);
            Assert.Equal("{\"active\":false}", await answer.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_back_channel_receiver_gets_a_logout_token_signed_with_our_published_keys()
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiverBuilder = WebApplication.CreateSlimBuilder();
        receiverBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = receiverBuilder.Build();
        receiver.MapPost("/logout", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            received.TrySetResult(form["logout_token"].ToString());
            return Results.Ok();
        });
        await receiver.StartAsync();
        var receiverUri = receiver.Urls.First() + "/logout";

        var (browser, client, _, tokens) = await SignInAsync(new ClientSettings { BackchannelLogoutUri = receiverUri });
        using (browser)
        {
            var sid = new JsonWebToken(tokens.GetProperty("id_token").GetString()).GetPayloadValue<string>("sid");
            var response = await browser.GetAsync("/connect/endsession?id_token_hint=" + Uri.EscapeDataString(tokens.GetProperty("id_token").GetString()!));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            var logoutToken = await received.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var configuration = await new ConfigurationManager<OpenIdConnectConfiguration>(
                ServerFactory.Issuer + "/.well-known/openid-configuration", new OpenIdConnectConfigurationRetriever(),
                new HttpDocumentRetriever(server.CreateClient()) { RequireHttps = false }).GetConfigurationAsync(CancellationToken.None);
            var result = await new JsonWebTokenHandler().ValidateTokenAsync(logoutToken, new TokenValidationParameters
            {
                ValidIssuer = configuration.Issuer,
                ValidAudience = client.ClientId,
                IssuerSigningKeys = configuration.SigningKeys,
                ValidTypes = ["logout+jwt"],
                ValidateLifetime = false,
            });
            Assert.True(result.IsValid, result.Exception?.Message);
            var jwt = (JsonWebToken)result.SecurityToken;
            Assert.Equal(sid, jwt.GetPayloadValue<string>("sid"));
            Assert.True(jwt.TryGetPayloadValue<JsonElement>("events", out var events));
            Assert.True(events.TryGetProperty("http://schemas.openid.net/event/backchannel-logout", out _));
            Assert.False(jwt.TryGetPayloadValue<string>("nonce", out _), "a logout token must not carry a nonce (§2.4)");
        }
    }

    [Fact]
    public void Devices_are_described_in_plain_words()
    {
        Assert.Equal("Firefox on Linux", UserAgentSummary.Describe("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"));
        Assert.Equal("Chrome on Windows", UserAgentSummary.Describe("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"));
        Assert.Equal("Unknown device", UserAgentSummary.Describe(null));
    }
}
