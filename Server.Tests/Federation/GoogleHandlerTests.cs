using IdentityServer.Accounts.Federation;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Google;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// Google sign-in runs on the package's <see cref="GoogleHandler"/> (Microsoft.AspNetCore.Authentication.Google), with
/// our endpoints, PKCE, scopes and claims, and our rule on Google's <c>email_verified</c>.
/// </summary>
[Collection(FederationHost.Name)]
public sealed class GoogleHandlerTests(FederationServer server)
{
    [Fact]
    public async Task The_google_scheme_is_the_packages_google_handler_pointed_at_the_configured_endpoints()
    {
        var scheme = await server.Services.GetRequiredService<IAuthenticationSchemeProvider>().GetSchemeAsync(GoogleProvider.Scheme);

        Assert.NotNull(scheme);
        Assert.Equal(typeof(GoogleHandler), scheme.HandlerType);
        var options = server.Services.GetRequiredService<IOptionsMonitor<GoogleOptions>>().Get(GoogleProvider.Scheme);
        var root = server.StandIn.BaseAddress.ToString().TrimEnd('/');
        Assert.Equal(root + "/google/authorize", options.AuthorizationEndpoint);
        Assert.Equal(root + "/google/token", options.TokenEndpoint);
        Assert.Equal(root + "/google/userinfo", options.UserInformationEndpoint);
        Assert.True(options.UsePkce);
        Assert.False(options.SaveTokens);
        Assert.Equal(["email", "openid", "profile"], options.Scope.Order(StringComparer.Ordinal));
        Assert.Equal("/signin-google", options.CallbackPath);
        Assert.Equal(IdentityConstants.ExternalScheme, options.SignInScheme);
        // The external cookie carries our cleaned profile only, not the handler's raw claim mapping.
        Assert.Empty(options.ClaimActions);
    }

    [Fact]
    public void Without_overrides_google_is_reached_at_its_documented_endpoints_and_userinfo_is_the_openid_connect_one()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Authentication:Google:ClientId"] = "google-client",
            ["Authentication:Google:ClientSecret"] = "google-secret",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAuthentication().AddGoogleSignIn(configuration, secureCookies: true);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<GoogleOptions>>().Get(GoogleProvider.Scheme);

        Assert.Equal("https://accounts.google.com/o/oauth2/v2/auth", options.AuthorizationEndpoint);
        Assert.Equal("https://oauth2.googleapis.com/token", options.TokenEndpoint);
        // Not the handler's default (www.googleapis.com/oauth2/v3/userinfo): the discovery document's userinfo_endpoint.
        Assert.Equal("https://openidconnect.googleapis.com/v1/userinfo", options.UserInformationEndpoint);
        Assert.Equal(CookieSecurePolicy.Always, options.CorrelationCookie.SecurePolicy);
    }

    [Fact]
    public async Task Through_the_google_handler_an_unverified_email_links_nothing_and_a_verified_authoritative_one_does()
    {
        // Two accounts without a password, each holding a verified address of a Workspace domain Google is authoritative for.
        var unverifiedOwner = await TestData.CreateUserAsync(server, password: false);
        var verifiedOwner = await TestData.CreateUserAsync(server, password: false);
        var domain = unverifiedOwner.Email![(unverifiedOwner.Email!.LastIndexOf('@') + 1)..];
        var unverified = server.StandIn.Add(StandInAccount.Google(email: unverifiedOwner.Email, verified: false, hostedDomain: domain));
        var verified = server.StandIn.Add(StandInAccount.GoogleWorkspace(verifiedOwner.Email!));

        foreach (var account in new[] { unverified, verified })
        {
            using var browser = new BrowserSession(server);
            var signInPage = await browser.GetAsync("/account/login?returnUrl=%2Faccount%2Flogins");
            await FederatedFlow.SignInAsync(browser, signInPage, "Google", account);
        }

        // OpenID Connect Core §5.7: email_verified false is no proof of the address; a user of its own is created.
        var created = await FederatedFlow.LinkedUserAsync(server, "Google", unverified);
        Assert.NotNull(created);
        Assert.NotEqual(unverifiedOwner.Id, created.Id);
        Assert.Equal(unverifiedOwner.Email, created.Email);
        Assert.False(created.EmailConfirmed);
        // The same path with email_verified true links the existing account (the linking rule's step 2).
        Assert.Equal(verifiedOwner.Id, (await FederatedFlow.LinkedUserAsync(server, "Google", verified))?.Id);
    }
}
