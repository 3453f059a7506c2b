using System.Net;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Federation;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Security;

/// <summary>
/// The audit entries of sign-in through a provider and of linking one (on the federation host, with its provider
/// stand-in): who, which provider, which app, and whether it worked; never the provider's tokens.
/// </summary>
[Collection(FederationHost.Name)]
public sealed class ProviderAuditTests(FederationServer server)
{
    [Fact]
    public async Task A_provider_sign_in_that_links_by_verified_email_records_the_link_and_the_sign_in_for_the_app()
    {
        var user = await TestData.CreateUserAsync(server, password: false);
        var client = await TestData.CreateClientAsync(server);
        var account = server.StandIn.Add(StandInAccount.GoogleWorkspace(user.Email!));
        using var browser = new BrowserSession(server);
        var (_, challenge) = TestData.NewPkce();

        await FederatedFlow.AuthorizeAsync(browser, client, "Google", account, challenge);

        var entries = await EntriesAsync(user.Id);
        Assert.Equal(["external_login.linked", "sign_in.external"], entries.Select(e => e.Action).Order());
        Assert.All(entries, e => Assert.Equal((AuditOutcomes.Success, user.Id, client.ClientId), (e.Outcome, e.ActorId, e.ClientId)));
        Assert.All(entries, e => Assert.Contains("\"provider\":\"Google\"", e.Details, StringComparison.Ordinal));
        Assert.Contains("Linked", Assert.Single(entries, e => e.Action == "external_login.linked").Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Linking_a_provider_from_the_account_page_is_recorded()
    {
        var user = await TestData.CreateUserAsync(server);
        var account = server.StandIn.Add(StandInAccount.Discord(email: "someone-else-" + Guid.NewGuid().ToString("N")[..8] + "@example.com"));
        using var browser = new BrowserSession(server);
        var logins = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), user.UserName!);

        var toProvider = await browser.SubmitAsync(logins, [], pressButtonValue: "Discord", formSelector: "form.providers");
        var back = await FederatedFlow.AtProviderAsync(toProvider.Headers.Location!, account);
        var linked = await browser.GetAsync(back.ToString());

        Assert.Equal(HttpStatusCode.OK, linked.StatusCode);
        var entry = Assert.Single(await EntriesAsync(user.Id), e => e.Kind == AuditKinds.ExternalLogin);
        Assert.Equal(("external_login.linked", AuditOutcomes.Success, user.Id), (entry.Action, entry.Outcome, entry.ActorId));
        Assert.Contains("Discord", entry.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_provider_sign_in_is_recorded_as_a_failure_of_nobody_known()
    {
        var user = await TestData.CreateUserAsync(server);
        var account = server.StandIn.Add(StandInAccount.Discord(email: user.Email, verified: true)); // the account has a password
        using var browser = new BrowserSession(server);
        var before = await FailuresAsync();

        await FederatedFlow.SignInAsync(browser, await browser.GetAsync("/account/login"), "Discord", account);

        var failure = Assert.Single((await FailuresAsync()).ExceptBy(before.Select(e => e.Id), e => e.Id));
        Assert.Equal((AuditKinds.SignIn, AuditLog.Anonymous, "user:unknown"), (failure.Kind, failure.ActorId, failure.Target));
        Assert.Contains("EmailInUse", failure.Details, StringComparison.Ordinal);
        Assert.Empty(await EntriesAsync(user.Id));
    }

    private Task<List<AuditEntry>> FailuresAsync() =>
        server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Action == "sign_in.external" && e.Outcome == AuditOutcomes.Failure).ToListAsync());

    private Task<List<AuditEntry>> EntriesAsync(string userId) =>
        server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Target == "user:" + userId && e.Kind != AuditKinds.Admin).ToListAsync());
}
