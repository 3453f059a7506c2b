using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Federation;

/// <summary>
/// A person signing in through a provider, step by step. The in-process browser stops at redirects leaving our
/// server; the step at the provider is a plain HttpClient call to the stand-in (which answers with the redirect back,
/// carrying code and state), and the browser continues from there with its own cookies.
/// </summary>
public static class FederatedFlow
{
    /// <summary>Presses the provider's button on our sign-in page; returns the provider's authorize URL we were sent to.</summary>
    public static async Task<Uri> ChooseProviderAsync(BrowserSession browser, HttpResponseMessage signInPage, string scheme)
    {
        Assert.Equal("/account/login", signInPage.RequestMessage!.RequestUri!.AbsolutePath);
        var response = await browser.SubmitAsync(signInPage, [], pressButtonValue: scheme, formSelector: "form.providers");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!;
    }

    /// <summary>At the provider: approve as <paramref name="account"/> (or cancel); returns the redirect back to our callback.</summary>
    public static async Task<Uri> AtProviderAsync(Uri authorizeUrl, StandInAccount? account, bool cancel = false)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var url = authorizeUrl + (cancel ? "&deny=1" : "&login=" + Uri.EscapeDataString(account!.Id));
        using var response = await http.GetAsync(new Uri(url));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"the provider stand-in refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response.Headers.Location!;
    }

    /// <summary>From the sign-in page through the provider and back; returns the last response (a page, or a redirect to the app).</summary>
    public static async Task<HttpResponseMessage> SignInAsync(BrowserSession browser, HttpResponseMessage signInPage, string scheme, StandInAccount account)
    {
        var authorizeUrl = await ChooseProviderAsync(browser, signInPage, scheme);
        var callback = await AtProviderAsync(authorizeUrl, account);
        return await browser.GetAsync(callback.ToString());
    }

    /// <summary>An app's /authorize through sign-in with the provider (and consent when asked) to the app's redirect.</summary>
    public static async Task<Dictionary<string, string>> AuthorizeAsync(BrowserSession browser, TestClient client, string scheme, StandInAccount account, string challenge)
    {
        var signInPage = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, challenge));
        var response = await SignInAsync(browser, signInPage, scheme, account);
        if (response.StatusCode == HttpStatusCode.OK && response.RequestMessage!.RequestUri!.AbsolutePath == "/consent")
        {
            response = await browser.SubmitAsync(response, [], pressButtonValue: "allow");
        }

        return OAuthFlow.CallbackParameters(response, client);
    }

    /// <summary>Our user linked to this provider account, if any.</summary>
    public static Task<ApplicationUser?> LinkedUserAsync(ServerFactory server, string scheme, StandInAccount account) =>
        server.WithDatabaseAsync(db => db.Users.FirstOrDefaultAsync(u => db.UserLogins.Any(l => l.UserId == u.Id && l.LoginProvider == scheme && l.ProviderKey == account.Id)));

    public static Task<int> UsersWithEmailAsync(ServerFactory server, string email)
    {
        var normalized = email.ToUpperInvariant(); // Identity's default normalizer
        return server.WithDatabaseAsync(db => db.Users.CountAsync(u => u.NormalizedEmail == normalized));
    }
}
