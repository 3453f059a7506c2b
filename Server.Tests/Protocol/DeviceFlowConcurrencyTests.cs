using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// An approved device code yields exactly one token response, however many polls arrive at once (RFC 8628 §3.5 and
/// RFC 6749 §4.1.2's single use): the database decides, and the losers leave nothing behind (one family, one refresh
/// token). Run on both databases, whose locking differs.
/// </summary>
internal static class DeviceRedemptionRace
{
    public const int Polls = 8;

    public static async Task RunAsync(ServerFactory server)
    {
        var user = await TestData.CreateUserAsync(server);
        var client = await DeviceFlow.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var clients = Enumerable.Range(0, Polls).Select(_ => server.CreateClient()).ToList();
        try
        {
            for (var round = 0; round < 3; round++)
            {
                var device = await DeviceFlow.StartAsync(clients[0], client);
                await DeviceFlow.AnswerAsync(browser, device.UserCode, user.UserName!, "approve");

                var results = await Task.WhenAll(clients.Select(http => DeviceFlow.PollAsync(http, client, device.DeviceCode)));

                Assert.Single(results, r => r.Status == HttpStatusCode.OK);
                Assert.All(results.Where(r => r.Status != HttpStatusCode.OK), r => TokenChecks.AssertTokenError(r, "invalid_grant"));
            }

            var (families, refreshTokens) = await server.WithDatabaseAsync(async db => (
                await db.Authorizations.CountAsync(a => a.ApplicationId == client.ApplicationId && a.Type == AuthorizationTypes.AdHoc),
                await db.Tokens.CountAsync(t => t.ApplicationId == client.ApplicationId && t.Type == TokenTypes.RefreshToken)));
            Assert.Equal((3, 3), (families, refreshTokens));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }
}

[Collection(SharedProtocolServer.Name)]
public sealed class SqliteDeviceFlowConcurrencyTests(SqliteServer server)
{
    [Fact]
    public Task Simultaneous_polls_of_an_approved_code_give_exactly_one_token_response() => DeviceRedemptionRace.RunAsync(server);
}

public sealed class PostgresDeviceFlowConcurrencyTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public Task Simultaneous_polls_of_an_approved_code_give_exactly_one_token_response() => DeviceRedemptionRace.RunAsync(server);
}
