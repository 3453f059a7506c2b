using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Federation;

/// <summary>A provider's sign-in is one factor: an account with two-step verification on asks for the code after it.</summary>
[Collection(FederationHost.Name)]
public sealed class FederatedTwoFactorTests(FederationServer server)
{
    [Fact]
    public async Task A_provider_sign_in_of_a_two_factor_account_asks_for_the_code_and_says_so_in_amr()
    {
        var user = await TestData.CreateUserAsync(server, password: false);
        var account = server.StandIn.Add(StandInAccount.GoogleWorkspace(user.Email!));
        string key;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var stored = (await users.FindByIdAsync(user.Id))!;
            await users.ResetAuthenticatorKeyAsync(stored);
            await users.SetTwoFactorEnabledAsync(stored, true);
            key = (await users.GetAuthenticatorKeyAsync(stored))!;
        }

        var client = await TestData.CreateClientAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var step = await FederatedFlow.SignInAsync(browser, await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge, "openid")), "Google", account);
        Assert.Equal("/account/login-2fa", step.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal("/account/login", (await browser.GetAsync("/account")).RequestMessage!.RequestUri!.AbsolutePath);

        var callback = OAuthFlow.CallbackParameters(await browser.SubmitAsync(step, new() { ["Code"] = Totp.Code(key) }), client);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);

        Assert.Equal(HttpStatusCode.OK, status);
        var token = new JsonWebToken(body.GetProperty("id_token").GetString());
        Assert.Equal(["google", "otp", "mfa"], token.Claims.Where(c => c.Type == "amr").Select(c => c.Value));
        Assert.Equal("2", token.GetClaim("acr").Value);
    }
}
