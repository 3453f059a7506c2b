using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// A code is single use even when two redemptions arrive at the same moment: the database decides (one conditional
/// update), not a lock in one process, so exactly one gets tokens. The other is a replay (RFC 6749 §4.1.2) and
/// revokes what the winner got. Run on both databases, whose locking differs.
/// </summary>
internal static class CodeRedemptionRace
{
    public const int Rounds = 10;

    public static async Task RunAsync(ServerFactory server)
    {
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        await AuthorizeRequests.SignInAsync(browser, user.UserName!);
        using var first = server.CreateClient();
        using var second = server.CreateClient();

        for (var round = 0; round < Rounds; round++)
        {
            var (verifier, challenge) = TestData.NewPkce();
            var code = OAuthFlow.CallbackParameters(await browser.GetAsync(AuthorizeRequests.Url(client, challenge, [("scope", "openid offline_access")])), client)["code"];

            var results = await Task.WhenAll(
                OAuthFlow.RedeemCodeAsync(first, client, code, verifier),
                OAuthFlow.RedeemCodeAsync(second, client, code, verifier));

            var winner = Assert.Single(results, r => r.Status == HttpStatusCode.OK);
            var loser = Assert.Single(results, r => r.Status != HttpStatusCode.OK);
            TokenChecks.AssertTokenError(loser, "invalid_grant");

            // Whichever order the database chose, the second use revoked the family the first one started.
            var refresh = await OAuthFlow.PostTokenAsync(first, client, new()
            {
                ["grant_type"] = "refresh_token",
                ["refresh_token"] = winner.Body.GetProperty("refresh_token").GetString()!,
            });
            TokenChecks.AssertTokenError(refresh, "invalid_grant");
        }
    }
}

[Collection(SharedProtocolServer.Name)]
public sealed class SqliteCodeRedemptionConcurrencyTests(SqliteServer server)
{
    [Fact]
    public Task Two_simultaneous_redemptions_of_a_code_give_exactly_one_success() => CodeRedemptionRace.RunAsync(server);
}

public sealed class PostgresCodeRedemptionConcurrencyTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public Task Two_simultaneous_redemptions_of_a_code_give_exactly_one_success() => CodeRedemptionRace.RunAsync(server);
}
