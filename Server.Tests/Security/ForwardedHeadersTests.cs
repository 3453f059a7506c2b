using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Protocol;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Security;

/// <summary>
/// With no proxy configured (the default), X-Forwarded-For is nobody's to set: the address a session, an audit entry or
/// a rate limit sees is the peer's own, whatever the request claims. (Configured proxies: RateLimitTests, AuditLogTests.)
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class ForwardedHeadersTests(SqliteServer server)
{
    [Fact]
    public async Task Without_a_configured_proxy_a_claimed_client_address_is_ignored()
    {
        const string Claimed = "198.51.100.200";
        var user = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        browser.Http.DefaultRequestHeaders.Add("X-Forwarded-For", Claimed);
        var (_, challenge) = TestData.NewPkce();

        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge);

        Assert.True(callback.ContainsKey("code"));
        var session = await server.WithDatabaseAsync(db => db.Sessions.AsNoTracking().SingleAsync(s => s.Subject == user.Id));
        // The in-process host has no peer address: nothing, rather than the address the request chose for itself.
        Assert.Null(session.IpAddress);
    }
}
