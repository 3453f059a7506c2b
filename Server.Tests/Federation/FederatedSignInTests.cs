using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// Federated sign-in: complete flows through the real endpoints, one per provider: an app's /authorize, our sign-in page, the
/// provider stand-in, back, consent, the app's redirect with a code, and tokens whose sub is our own id and whose
/// claims came from the provider.
/// </summary>
[Collection(FederationHost.Name)]
public sealed class FederatedSignInTests(FederationServer server)
{
    private sealed record Tokens(JsonWebToken IdToken, JsonElement UserInfo);

    private async Task<Tokens> SignInThroughAsync(string scheme, StandInAccount account, bool consent = true)
    {
        server.StandIn.Add(account);
        var client = await TestData.CreateClientAsync(server, consent: consent);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await FederatedFlow.AuthorizeAsync(browser, client, scheme, account, challenge);
        Assert.Equal("state-123", callback["state"]);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("access_token").GetString());
        using var response = await browser.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var userInfo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return new Tokens(new JsonWebToken(body.GetProperty("id_token").GetString()), userInfo);
    }

    /// <summary>sub is the id of the user linked to the provider account: neither the provider's id nor the email.</summary>
    private async Task<string> AssertOurSubjectAsync(Tokens tokens, string scheme, StandInAccount account)
    {
        var user = await FederatedFlow.LinkedUserAsync(server, scheme, account);
        Assert.NotNull(user);
        Assert.Equal(user.Id, tokens.IdToken.Subject);
        Assert.Equal(user.Id, tokens.UserInfo.GetProperty("sub").GetString());
        Assert.NotEqual(account.Id, tokens.IdToken.Subject);
        Assert.NotEqual(account.Email, tokens.IdToken.Subject);
        Assert.True(Guid.TryParse(tokens.IdToken.Subject, out _), "our subject is our own generated id");
        return user.Id;
    }

    [Fact]
    public async Task Google_creates_a_user_with_our_subject_and_the_verified_email_name_and_picture_from_google()
    {
        var account = StandInAccount.Google();
        var tokens = await SignInThroughAsync("Google", account);

        await AssertOurSubjectAsync(tokens, "Google", account);
        Assert.Equal(account.Name, tokens.IdToken.GetPayloadValue<string>("name"));
        Assert.Equal(account.Email, tokens.IdToken.GetPayloadValue<string>("email"));
        Assert.True(tokens.IdToken.GetPayloadValue<bool>("email_verified"));
        Assert.Equal(account.Avatar, tokens.IdToken.GetPayloadValue<string>("picture"));
        Assert.Equal(account.Name, tokens.UserInfo.GetProperty("name").GetString());
        Assert.Equal(account.Email, tokens.UserInfo.GetProperty("email").GetString());
        Assert.True(tokens.UserInfo.GetProperty("email_verified").GetBoolean());
        // The session claims every sign-in carries: sid names a stored session, auth_time is now.
        Assert.False(string.IsNullOrEmpty(tokens.IdToken.GetPayloadValue<string>("sid")));
        Assert.InRange(tokens.IdToken.GetPayloadValue<long>("auth_time"), server.Time.GetUtcNow().ToUnixTimeSeconds() - 5, server.Time.GetUtcNow().ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Signing_in_again_with_the_same_provider_account_is_the_same_user()
    {
        var account = StandInAccount.Google();
        var first = await SignInThroughAsync("Google", account, consent: false);
        var second = await SignInThroughAsync("Google", account, consent: false);

        Assert.Equal(first.IdToken.Subject, second.IdToken.Subject);
        Assert.Equal(1, await FederatedFlow.UsersWithEmailAsync(server, account.Email!));
    }

    [Fact]
    public async Task GitHub_private_email_comes_from_user_emails_primary_and_verified()
    {
        var account = StandInAccount.GitHubPrivateEmail();
        Assert.Null(account.PublicEmail);
        var tokens = await SignInThroughAsync("GitHub", account);

        await AssertOurSubjectAsync(tokens, "GitHub", account);
        Assert.Equal(account.Email, tokens.IdToken.GetPayloadValue<string>("email"));
        Assert.True(tokens.IdToken.GetPayloadValue<bool>("email_verified"));
        Assert.Equal(account.Name, tokens.IdToken.GetPayloadValue<string>("name"));
        Assert.Equal(account.Avatar, tokens.IdToken.GetPayloadValue<string>("picture"));
        Assert.Equal(account.Login, tokens.IdToken.GetPayloadValue<string>("preferred_username"));
    }

    [Fact]
    public async Task Discord_unverified_email_stays_unverified_and_the_avatar_is_built_from_id_and_hash()
    {
        var account = StandInAccount.Discord(verified: false);
        var tokens = await SignInThroughAsync("Discord", account);

        await AssertOurSubjectAsync(tokens, "Discord", account);
        Assert.Equal(account.Email, tokens.IdToken.GetPayloadValue<string>("email"));
        Assert.False(tokens.IdToken.GetPayloadValue<bool>("email_verified"));
        Assert.False(tokens.UserInfo.GetProperty("email_verified").GetBoolean());
        Assert.Equal(account.Name, tokens.IdToken.GetPayloadValue<string>("name"));
        Assert.Equal($"https://cdn.discordapp.com/avatars/{account.Id}/{account.Avatar}.png", tokens.IdToken.GetPayloadValue<string>("picture"));
    }

    [Fact]
    public async Task Microsoft_personal_account_uses_its_sign_in_address_as_an_unverified_email()
    {
        var account = StandInAccount.MicrosoftPersonal();
        var tokens = await SignInThroughAsync("Microsoft", account);

        await AssertOurSubjectAsync(tokens, "Microsoft", account);
        Assert.Equal(account.UserPrincipalName, tokens.IdToken.GetPayloadValue<string>("email"));
        Assert.False(tokens.IdToken.GetPayloadValue<bool>("email_verified"));
        Assert.Equal(account.Name, tokens.IdToken.GetPayloadValue<string>("name"));
        // The default tenant is "common": personal and work accounts alike.
        Assert.Equal("common", server.StandIn.LastMicrosoftTenant);
    }

    [Fact]
    public async Task Microsoft_work_account_uses_mail_not_the_tenant_user_principal_name()
    {
        var account = StandInAccount.MicrosoftWork();
        var tokens = await SignInThroughAsync("Microsoft", account);

        await AssertOurSubjectAsync(tokens, "Microsoft", account);
        Assert.Equal(account.Mail, tokens.IdToken.GetPayloadValue<string>("email"));
        Assert.False(tokens.IdToken.GetPayloadValue<bool>("email_verified"));
    }

    [Fact]
    public async Task Signing_in_with_a_provider_over_another_persons_session_ends_it_and_the_new_sid_names_the_new_session()
    {
        var previous = await TestData.CreateUserAsync(server);
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins"), previous.UserName!);
        Assert.Equal(1, await server.WithDatabaseAsync(db => db.Sessions.CountAsync(s => s.Subject == previous.Id)));
        var account = server.StandIn.Add(StandInAccount.Google());
        var (verifier, challenge) = TestData.NewPkce();

        // prompt=login: the app asks for a fresh sign-in, and this time it is someone else, through Google.
        var signInPage = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge, extra: ("prompt", "login")));
        var callback = OAuthFlow.CallbackParameters(await FederatedFlow.SignInAsync(browser, signInPage, "Google", account), client);
        var (_, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        var idToken = new JsonWebToken(body.GetProperty("id_token").GetString());

        var sid = idToken.GetPayloadValue<string>("sid");
        Assert.Equal(idToken.Subject, await server.WithDatabaseAsync(db => db.Sessions.Where(s => s.Sid == sid).Select(s => s.Subject).SingleOrDefaultAsync()));
        Assert.Equal(0, await server.WithDatabaseAsync(db => db.Sessions.CountAsync(s => s.Subject == previous.Id)));
    }

    [Fact]
    public async Task The_provider_is_asked_for_the_documented_scopes_with_PKCE_on_its_own_redirect_uri()
    {
        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var (_, challenge) = TestData.NewPkce();
        var signInPage = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge));
        var expected = new Dictionary<string, (string Path, string Scope)>
        {
            ["Google"] = ("/google/authorize", "openid email profile"),
            ["GitHub"] = ("/github/login/oauth/authorize", "read:user user:email"),
            ["Discord"] = ("/discord/oauth2/authorize", "identify email"),
            ["Microsoft"] = ("/microsoft/common/oauth2/v2.0/authorize", "https://graph.microsoft.com/User.Read"),
        };
        foreach (var (scheme, (path, scope)) in expected)
        {
            var authorize = await FederatedFlow.ChooseProviderAsync(browser, signInPage, scheme);
            Assert.Equal(server.StandIn.BaseAddress.Authority, authorize.Authority);
            Assert.Equal(path, authorize.AbsolutePath);
            var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorize.Query);
            Assert.Equal(scope, query["scope"].ToString());
            Assert.Equal("S256", query["code_challenge_method"].ToString());
            Assert.Equal($"https://localhost/signin-{scheme.ToLowerInvariant()}", query["redirect_uri"].ToString());
            Assert.False(string.IsNullOrEmpty(query["state"]));
        }
    }
}
