using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>Roles and custom claims reach apps through scopes: in the ID token and userinfo, only when a granted scope releases them.</summary>
[Collection(AdminServer.Name)]
public sealed class UserClaimsReleaseTests(SqliteServer server)
{
    [Fact]
    public async Task Roles_and_custom_claims_are_in_the_id_token_and_userinfo_only_when_their_scope_was_granted()
    {
        var api = await AdminApi.SharedAsync(server);
        var user = await TestData.CreateUserAsync(server);
        var role = "auditor-" + Guid.NewGuid().ToString("N")[..6];
        var hr = "hr-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.OK, (await api.PutAsync($"/admin/api/users/{user.Id}/roles", new { roles = Strings(role, "viewer") })).Status);
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync($"/admin/api/users/{user.Id}/claims", new { type = "department", value = "sales" })).Status);
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync($"/admin/api/users/{user.Id}/claims", new { type = "site", value = "north" })).Status);
        var scope = await api.PostAsync("/admin/api/scopes", new { name = hr, claims = Strings("department") });
        Assert.Equal(HttpStatusCode.Created, scope.Status);
        Assert.Equal(Strings("department"), scope.Body.GetProperty("claims").EnumerateArray().Select(c => c.GetString()!).ToArray());
        var client = await TestData.CreateClientAsync(server, scopes: ["openid", "profile", "roles", hr]);

        var (plainId, plainInfo) = await SignInAsync(user, client, "openid profile");
        Assert.DoesNotContain(plainId.Claims, c => c.Type is "roles" or "department");
        Assert.False(plainInfo.TryGetProperty("roles", out _));
        Assert.False(plainInfo.TryGetProperty("department", out _));

        var (idToken, userInfo) = await SignInAsync(user, client, $"openid roles {hr}");
        Assert.Equal(Strings(role, "viewer").Order(StringComparer.Ordinal), idToken.Claims.Where(c => c.Type == "roles").Select(c => c.Value).Order(StringComparer.Ordinal));
        Assert.Equal("sales", idToken.Claims.Single(c => c.Type == "department").Value);
        Assert.DoesNotContain(idToken.Claims, c => c.Type == "site"); // no granted scope releases it
        Assert.Equal(Strings(role, "viewer").Order(StringComparer.Ordinal), userInfo.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal("sales", userInfo.GetProperty("department").GetString());
        Assert.False(userInfo.TryGetProperty("site", out _));

        // Only the roles scope: roles, not the department.
        var (rolesOnly, _) = await SignInAsync(user, client, "openid roles");
        Assert.Contains(rolesOnly.Claims, c => c.Type == "roles");
        Assert.DoesNotContain(rolesOnly.Claims, c => c.Type == "department");
    }

    [Fact]
    public async Task A_client_not_allowed_the_roles_scope_cannot_get_it()
    {
        var client = await TestData.CreateClientAsync(server, scopes: ["openid"]);
        Assert.True((await server.Services.GetRequiredService<ScopeCatalog>().GetAllAsync()).ContainsKey("roles"));
        using var browser = new BrowserSession(server);

        var response = await browser.GetAsync(OAuthFlow.AuthorizeUrl(client, TestData.NewPkce().Challenge, scope: "openid roles"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("error=invalid_scope", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_claim_named_sub_slipped_into_the_database_still_cannot_overwrite_the_subject()
    {
        var user = await TestData.CreateUserAsync(server);
        var sneaky = "sneaky-" + Guid.NewGuid().ToString("N")[..8];
        // Past every check: straight into the tables, as a bad import might.
        await server.WithDatabaseAsync(async db =>
        {
            db.Scopes.Add(new OAuthScope { Name = sneaky, Claims = JsonSerializer.Serialize(Strings("sub", "iss", "nickname")) });
            db.UserClaims.Add(new Microsoft.AspNetCore.Identity.IdentityUserClaim<string> { UserId = user.Id, ClaimType = "sub", ClaimValue = "someone-else" });
            db.UserClaims.Add(new Microsoft.AspNetCore.Identity.IdentityUserClaim<string> { UserId = user.Id, ClaimType = "iss", ClaimValue = "https://evil.example" });
            db.UserClaims.Add(new Microsoft.AspNetCore.Identity.IdentityUserClaim<string> { UserId = user.Id, ClaimType = "nickname", ClaimValue = "ok" });
            await db.SaveChangesAsync();
        });
        server.Services.GetRequiredService<ScopeCatalog>().Invalidate();
        var client = await TestData.CreateClientAsync(server, scopes: ["openid", sneaky]);

        var (idToken, userInfo) = await SignInAsync(user, client, "openid " + sneaky);

        Assert.Equal(user.Id, idToken.Subject);
        Assert.Single(idToken.Claims, c => c.Type == "sub");
        Assert.DoesNotContain(idToken.Claims, c => c.Value == "https://evil.example");
        Assert.Equal("ok", idToken.Claims.Single(c => c.Type == "nickname").Value);
        Assert.Equal(user.Id, userInfo.GetProperty("sub").GetString());
        Assert.Equal("ok", userInfo.GetProperty("nickname").GetString());
    }

    private async Task<(JsonWebToken IdToken, JsonElement UserInfo)> SignInAsync(ApplicationUser user, TestClient client, string scope)
    {
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, scope: scope);
        var (status, body, _) = await OAuthFlow.RedeemCodeAsync(browser.Http, client, callback["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("access_token").GetString());
        var response = await server.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var userInfo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (new JsonWebToken(body.GetProperty("id_token").GetString()), userInfo);
    }
}
