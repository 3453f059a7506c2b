using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Admin;

/// <summary>A client's active grants (list, revoke one, revoke all) and forcing a person's sign-out.</summary>
[Collection(AdminServer.Name)]
public sealed class AdminGrantsApiTests(SqliteServer server)
{
    [Fact]
    public async Task An_admin_lists_a_clients_grants_and_revoking_one_stops_its_refresh_token()
    {
        var api = await AdminApi.SharedAsync(server);
        var client = await TestData.CreateClientAsync(server);
        var alice = await TestData.CreateUserAsync(server);
        var bob = await TestData.CreateUserAsync(server);
        var aliceRefresh = await SignInAsync(client, alice.UserName!);
        var bobRefresh = await SignInAsync(client, bob.UserName!);

        var grants = await api.GetAsync($"/admin/api/clients/{client.ClientId}/grants");

        Assert.Equal(HttpStatusCode.OK, grants.Status);
        var list = grants.Body.EnumerateArray().ToList();
        Assert.Equal(2, list.Count);
        var aliceGrant = list.Single(g => g.GetProperty("subject").GetString() == alice.Id);
        Assert.Equal(alice.UserName, aliceGrant.GetProperty("username").GetString());
        Assert.Contains("offline_access", aliceGrant.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));

        var revoke = await api.DeleteAsync($"/admin/api/clients/{client.ClientId}/grants/{aliceGrant.GetProperty("id").GetString()}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.Status);
        Assert.Equal(HttpStatusCode.BadRequest, await RefreshAsync(client, aliceRefresh));
        Assert.Equal(HttpStatusCode.OK, await RefreshAsync(client, bobRefresh));
        var remaining = (await api.GetAsync($"/admin/api/clients/{client.ClientId}/grants")).Body.EnumerateArray().ToList();
        Assert.DoesNotContain(remaining, g => g.GetProperty("subject").GetString() == alice.Id);

        // A grant id of another client is not this client's to revoke.
        var other = await TestData.CreateClientAsync(server);
        var bobGrant = remaining.Single().GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync($"/admin/api/clients/{other.ClientId}/grants/{bobGrant}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/admin/api/clients/no-such-client/grants")).Status);
    }

    [Fact]
    public async Task Revoking_all_grants_of_a_client_or_one_persons()
    {
        var api = await AdminApi.SharedAsync(server);
        var client = await TestData.CreateClientAsync(server);
        var alice = await TestData.CreateUserAsync(server);
        var bob = await TestData.CreateUserAsync(server);
        var aliceRefresh = await SignInAsync(client, alice.UserName!);
        var bobRefresh = await SignInAsync(client, bob.UserName!);

        var onlyAlice = await api.DeleteAsync($"/admin/api/clients/{client.ClientId}/grants?subject={alice.Id}");
        Assert.Equal(1, onlyAlice.Body.GetProperty("revoked").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, await RefreshAsync(client, aliceRefresh));

        var all = await api.DeleteAsync($"/admin/api/clients/{client.ClientId}/grants");
        Assert.Equal(1, all.Body.GetProperty("revoked").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, await RefreshAsync(client, bobRefresh));
        Assert.Empty((await api.GetAsync($"/admin/api/clients/{client.ClientId}/grants")).Body.EnumerateArray());
    }

    [Fact]
    public async Task Forcing_a_persons_sign_out_ends_their_sessions_and_grants_everywhere()
    {
        var api = await AdminApi.SharedAsync(server);
        var client = await TestData.CreateClientAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var refresh = await SignInAsync(client, user.UserName!);
        Assert.True(await server.WithDatabaseAsync(db => db.Sessions.AnyAsync(s => s.Subject == user.Id)));

        var answer = await api.PostAsync($"/admin/api/users/{user.Id}/sign-out");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(1, answer.Body.GetProperty("sessions_ended").GetInt32());
        Assert.False(await server.WithDatabaseAsync(db => db.Sessions.AnyAsync(s => s.Subject == user.Id)));
        Assert.Equal(HttpStatusCode.BadRequest, await RefreshAsync(client, refresh));
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync("/admin/api/users/no-such-user/sign-out")).Status);
        var audit = await api.GetAsync($"/admin/api/audit?target=user:{user.Id}");
        var entry = Assert.Single(audit.Body.EnumerateArray(), e => e.GetProperty("action").GetString() == "user.signed_out");
        Assert.Equal(api.User.Id, entry.GetProperty("actor_id").GetString());
    }

    [Fact]
    public async Task The_audit_user_filter_finds_changes_made_to_the_user_and_the_client_filter_changes_made_to_the_client()
    {
        var api = await AdminApi.SharedAsync(server);
        var client = await TestData.CreateClientAsync(server);
        var alice = await TestData.CreateUserAsync(server);
        await SignInAsync(client, alice.UserName!);
        var grant = (await api.GetAsync($"/admin/api/clients/{client.ClientId}/grants")).Body.EnumerateArray().Single().GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/admin/api/clients/{client.ClientId}/grants/{grant}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/admin/api/users/{alice.Id}/disable")).Status);

        // By name or by id: what the admin did to alice's account and to her grant, besides what she did herself.
        foreach (var user in new[] { alice.UserName!, alice.Id })
        {
            var byUser = (await api.GetAsync($"/admin/api/audit?user={Uri.EscapeDataString(user)}&kind=admin")).Body.EnumerateArray().ToList();
            var actions = byUser.Select(e => e.GetProperty("action").GetString()).ToList();
            Assert.Contains("user.disabled", actions);
            Assert.Contains("client.grant_revoked", actions);
            Assert.All(byUser, e => Assert.Equal(api.User.Id, e.GetProperty("actor_id").GetString()));
        }

        var revoked = Assert.Single((await api.GetAsync($"/admin/api/audit?user={alice.Id}&action=client.grant_revoked")).Body.EnumerateArray());
        Assert.Equal("user:" + alice.Id, revoked.GetProperty("target").GetString());
        Assert.Equal(client.ClientId, revoked.GetProperty("client_id").GetString());
        // The actor filter keeps its meaning: alice made none of these changes.
        Assert.Empty((await api.GetAsync($"/admin/api/audit?actor={alice.Id}&kind=admin")).Body.EnumerateArray());

        // The client filter: every admin change made to a client, not only what happened through it.
        var definition = AdminApi.WebClient();
        var clientId = (string)definition["client_id"]!;
        await api.PostAsync("/admin/api/clients", definition);
        definition["client_name"] = "Renamed";
        await api.PutAsync($"/admin/api/clients/{clientId}", definition);
        await api.PostAsync($"/admin/api/clients/{clientId}/secret");
        await api.PostAsync($"/admin/api/clients/{clientId}/disable");
        await api.DeleteAsync($"/admin/api/clients/{clientId}");
        var byClient = (await api.GetAsync($"/admin/api/audit?client={clientId}")).Body.EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(["client.created", "client.deleted", "client.disabled", "client.secret_rotated", "client.updated"], byClient.Order(StringComparer.Ordinal));
        Assert.Contains("client.grant_revoked",
            (await api.GetAsync($"/admin/api/audit?client={client.ClientId}")).Body.EnumerateArray().Select(e => e.GetProperty("action").GetString()));
    }

    /// <summary>Signs the person in through the client (a fresh browser each time) and returns the refresh token.</summary>
    private async Task<string> SignInAsync(TestClient client, string userName)
    {
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, client, userName, challenge);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("refresh_token").GetString()!;
    }

    private async Task<HttpStatusCode> RefreshAsync(TestClient client, string refreshToken)
    {
        var (status, _, _) = await OAuthFlow.PostTokenAsync(server.CreateClient(), client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });
        return status;
    }
}
