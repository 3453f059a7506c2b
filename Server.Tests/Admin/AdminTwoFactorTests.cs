using System.Net;
using System.Net.Http.Headers;
using IdentityServer.Tests.Accounts;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Admin;

/// <summary>A host with Admin:RequireTwoFactor on.</summary>
public sealed class AdminTwoFactorServer : ServerFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Admin:RequireTwoFactor"] = "true" };
}

/// <summary>Admin:RequireTwoFactor: the admin pages and API refuse an admin who signed in with one factor.</summary>
public sealed class AdminTwoFactorTests(AdminTwoFactorServer server) : IClassFixture<AdminTwoFactorServer>
{
    private static async Task<HttpStatusCode> CallApiAsync(ServerFactory server, string token, Action<HttpResponseMessage>? inspect = null)
    {
        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/api/clients");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        inspect?.Invoke(response);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_single_factor_admin_is_sent_to_enrol_and_gets_in_after()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        using var browser = new BrowserSession(server);

        var refused = await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/account/login?returnUrl=%2Fadmin"), admin.UserName!);
        Assert.Equal("/account/security", refused.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("The admin pages need two-step verification", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Enrolling shows a code in this session: it becomes multi-factor, and the admin pages open.
        await TwoFactorTests.EnrolAsync(server, browser, admin, signIn: false);
        var pages = await browser.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.OK, pages.StatusCode);
        Assert.Equal("/admin", pages.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task The_api_wants_a_token_from_a_multi_factor_sign_in()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        var singleFactor = await AdminApi.AccessTokenAsync(server, admin);
        Assert.Equal(HttpStatusCode.Unauthorized, await CallApiAsync(server, singleFactor, response =>
            Assert.Contains("error=\"insufficient_user_authentication\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal)));

        Enrolment enrolment;
        using (var enrolling = new BrowserSession(server))
        {
            enrolment = await TwoFactorTests.EnrolAsync(server, enrolling, admin);
        }

        var client = await TestData.CreateClientAsync(server, scopes: ["admin", "profile"]);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var step = await OAuthFlow.SignInAsync(browser, await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge, "admin", nonce: null)), admin.UserName!);
        var callback = OAuthFlow.CallbackParameters(await browser.SubmitAsync(step, new() { ["Code"] = Totp.Code(enrolment.Key) }), client);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);

        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(server, body.GetProperty("access_token").GetString()!));
    }
}
