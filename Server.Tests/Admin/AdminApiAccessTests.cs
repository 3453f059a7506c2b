using System.Net;
using System.Net.Http.Headers;
using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Admin;

/// <summary>Who may call the admin API: anonymous 401, non-admins 403, and the admin check happens on every request.</summary>
[Collection(AdminServer.Name)]
public sealed class AdminApiAccessTests(SqliteServer server)
{
    [Fact]
    public async Task Anonymous_callers_get_401_with_a_bearer_challenge()
    {
        var api = new AdminApi(server.CreateClient(), null, new ApplicationUser());

        var answer = await api.GetAsync("/admin/api/clients");

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        var challenge = Assert.Single(answer.Response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.DoesNotContain("error=", challenge.Parameter, StringComparison.Ordinal); // RFC 6750 §3.1: no credentials, no error code
    }

    [Fact]
    public async Task A_forged_or_foreign_token_is_401_invalid_token()
    {
        var api = new AdminApi(server.CreateClient(), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", new ApplicationUser());

        var answer = await api.GetAsync("/admin/api/clients");

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("invalid_token", answer.Error);
        Assert.Contains("error=\"invalid_token\"", answer.Response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_in_admin_cookie_does_not_open_the_api()
    {
        // The API takes bearer tokens only: a cookie would make it a cross-site request forgery target.
        var admin = await AdminApi.CreateAdminAsync(server);
        using var browser = new BrowserSession(server);
        var login = await browser.GetAsync("/account/login");
        await OAuthFlow.SignInAsync(browser, login, admin.UserName!);

        var response = await browser.Http.GetAsync(new Uri("/admin/api/clients", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_non_admin_with_the_admin_scope_gets_403()
    {
        var user = await TestData.CreateUserAsync(server);
        var api = new AdminApi(server.CreateClient(), await AdminApi.AccessTokenAsync(server, user), user);

        var answer = await api.GetAsync("/admin/api/clients");

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal("insufficient_scope", answer.Error);
    }

    [Fact]
    public async Task An_admin_token_without_the_admin_scope_gets_403_insufficient_scope()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        var api = new AdminApi(server.CreateClient(), await AdminApi.AccessTokenAsync(server, admin, scope: "profile"), admin);

        var answer = await api.GetAsync("/admin/api/clients");

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Contains("error=\"insufficient_scope\"", answer.Response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Contains("scope=\"admin\"", answer.Response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_credentials_token_with_the_admin_scope_gets_403()
    {
        // The subject of such a token is a client, never a person holding the admin role.
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"], scopes: ["admin"]);
        var (status, body, _) = await OAuthFlow.PostTokenAsync(server.CreateClient(), client, new() { ["grant_type"] = "client_credentials", ["scope"] = "admin" });
        Assert.Equal(HttpStatusCode.OK, status);
        var api = new AdminApi(server.CreateClient(), body.GetProperty("access_token").GetString(), new ApplicationUser());

        var answer = await api.GetAsync("/admin/api/clients");

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
    }

    [Fact]
    public async Task Removing_the_admin_role_or_disabling_the_account_takes_effect_on_the_next_request()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/admin/api/clients")).Status);

        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var user = await users.FindByIdAsync(api.User.Id);
            Assert.True((await users.RemoveFromRoleAsync(user!, AdminRoles.Admin)).Succeeded);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync("/admin/api/clients")).Status);

        var second = await AdminApi.ForNewAdminAsync(server);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var disabled = await scope.ServiceProvider.GetRequiredService<UserAdminService>().DisableAsync(second.User.UserName!, AdminActor.CommandLine, default);
            Assert.Equal(AdminOutcome.Ok, disabled.Outcome);
        }

        // Disabling also revoked the token's grant, so the token itself no longer authenticates.
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.GetAsync("/admin/api/clients")).Status);
    }

    [Fact]
    public async Task A_revoked_admin_token_is_refused_at_once()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/admin/api/scopes")).Status);

        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IdentityServer.Tokens.TokenFamilies>().RevokeSubjectAsync(api.User.Id, default);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/admin/api/scopes")).Status);
    }

    [Fact]
    public async Task The_admin_scope_is_built_in_but_not_advertised_in_discovery()
    {
        var discovery = await server.CreateClient().GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative));

        Assert.DoesNotContain("\"admin\"", discovery, StringComparison.Ordinal);
        // And dynamic registration is off by default: not advertised, not served.
        Assert.DoesNotContain("registration_endpoint", discovery, StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/register") { Content = new StringContent("{}", new MediaTypeHeaderValue("application/json")) };
        Assert.Equal(HttpStatusCode.NotFound, (await server.CreateClient().SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_admin_api_and_only_it()
    {
        var response = await server.CreateClient().GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();

        Assert.Contains("/admin/api/clients", paths);
        Assert.Contains("/admin/api/clients/{clientId}/secret", paths);
        Assert.Contains("/admin/api/clients/{clientId}/grants", paths);
        Assert.Contains("/admin/api/scopes/{name}", paths);
        Assert.All(paths, p => Assert.StartsWith("/admin/api/", p, StringComparison.Ordinal));
        var scheme = document.RootElement.GetProperty("components").GetProperty("securitySchemes").EnumerateObject().Single().Value;
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        Assert.True(document.RootElement.GetProperty("components").GetProperty("schemas").TryGetProperty("ClientMetadata", out var metadata));
        Assert.True(metadata.GetProperty("properties").TryGetProperty("redirect_uris", out _));
    }
}
