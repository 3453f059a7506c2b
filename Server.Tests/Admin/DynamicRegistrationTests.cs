using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>The server with dynamic client registration switched on (it is off by default).</summary>
public sealed class RegistrationOpenServer : ServerFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["DynamicClientRegistration:Enabled"] = "true",
        // As in production: URLs the server would fetch may not name this machine.
        ["Outbound:AllowLoopback"] = "false",
    };
}

/// <summary>Dynamic client registration (RFC 7591), guarded by initial access tokens that admins issue.</summary>
public sealed class DynamicRegistrationTests(RegistrationOpenServer server) : IClassFixture<RegistrationOpenServer>
{
    [Fact]
    public async Task Discovery_advertises_the_registration_endpoint()
    {
        using var discovery = JsonDocument.Parse(await server.CreateClient().GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative)));

        Assert.Equal(ServerFactory.Issuer + "/connect/register", discovery.RootElement.GetProperty("registration_endpoint").GetString());
    }

    [Fact]
    public async Task A_developer_with_an_initial_access_token_registers_a_client_that_then_signs_people_in()
    {
        var token = await IssueTokenAsync();

        var (status, body, response) = await RegisterAsync(token, new
        {
            client_name = "Self-registered app",
            redirect_uris = Strings("https://dev.example.com/callback"),
            grant_types = Strings("authorization_code", "refresh_token"),
            scope = "openid profile",
            token_endpoint_auth_method = "client_secret_post",
            tos_uri = "https://dev.example.com/tos", // unknown to us: ignored (RFC 7591 §2)
        });

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var clientId = body.GetProperty("client_id").GetString()!;
        var secret = body.GetProperty("client_secret").GetString()!;
        Assert.Equal(0, body.GetProperty("client_secret_expires_at").GetInt64());
        Assert.InRange(body.GetProperty("client_id_issued_at").GetInt64(), server.Time.GetUtcNow().ToUnixTimeSeconds() - 5, server.Time.GetUtcNow().ToUnixTimeSeconds() + 5);
        Assert.Equal("client_secret_post", body.GetProperty("token_endpoint_auth_method").GetString());
        Assert.Equal(Strings("code"), body.GetProperty("response_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("openid profile", body.GetProperty("scope").GetString());
        var row = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        Assert.Equal(ConsentTypes.Explicit, row.ConsentType); // self-registered clients are third-party: people are asked
        Assert.Equal(ClientSecrets.Hash(secret), row.ClientSecretHash);
        Assert.False(ClientDescriptor.From(row).CanIntrospect);

        var client = new TestClient(clientId, secret, "https://dev.example.com/callback", row.Id);
        var user = await TestData.CreateUserAsync(server);
        using var browser = new BrowserSession(server);
        var (verifier, challenge) = TestData.NewPkce();
        var callback = await OAuthFlow.AuthorizeAsync(browser, client, user.UserName!, challenge, scope: "openid profile");
        var (tokenStatus, tokens, _) = await OAuthFlow.PostTokenAsync(browser.Http, client, new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = callback["code"],
            ["redirect_uri"] = client.RedirectUri,
            ["code_verifier"] = verifier,
        }, basic: false);
        Assert.Equal(HttpStatusCode.OK, tokenStatus);
        Assert.True(tokens.TryGetProperty("id_token", out _));

        var audit = await server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking().SingleAsync(e => e.Target == "client:" + clientId && e.Action == "client.created"));
        Assert.StartsWith("registration:", audit.ActorId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_valid_initial_access_token_nothing_is_registered()
    {
        var metadata = new { redirect_uris = Strings("https://dev.example.com/callback") };

        var (anonymous, _, anonymousResponse) = await RegisterAsync(null, metadata);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        Assert.Equal("Bearer", anonymousResponse.Headers.WwwAuthenticate.Single().Scheme);

        var (forged, forgedBody, _) = await RegisterAsync("x".PadRight(43, 'x'), metadata);
        Assert.Equal(HttpStatusCode.Unauthorized, forged);
        Assert.Equal("invalid_token", forgedBody.GetProperty("error").GetString());

        // Single use by default, and limited in time.
        var once = await IssueTokenAsync();
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(once, metadata)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RegisterAsync(once, metadata)).Status);

        var expiring = await IssueTokenAsync(expiresIn: 600);
        server.Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(HttpStatusCode.Unauthorized, (await RegisterAsync(expiring, metadata)).Status);
    }

    [Fact]
    public async Task A_registration_that_breaks_a_rule_gets_an_RFC_7591_error_and_keeps_its_token_use()
    {
        var token = await IssueTokenAsync();
        var cases = new (object Metadata, string Error, string Explanation)[]
        {
            (new { redirect_uris = Strings("http://dev.example.com/cb") }, "invalid_redirect_uri", "https"),
            (new { redirect_uris = Array.Empty<string>() }, "invalid_redirect_uri", "required"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), grant_types = Strings("client_credentials") }, "invalid_client_metadata", "client_credentials"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), response_types = Strings("token") }, "invalid_client_metadata", "code"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), scope = "openid admin" }, "invalid_client_metadata", "'admin'"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), token_endpoint_auth_method = "client_secret_jwt" }, "invalid_client_metadata", "token_endpoint_auth_method"),
            // private_key_jwt: keys are required, public ones, by value or by a URL on a public host, never both.
            (new { redirect_uris = Strings("https://dev.example.com/cb"), token_endpoint_auth_method = "private_key_jwt" }, "invalid_client_metadata", "jwks_uri or jwks"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), token_endpoint_auth_method = "private_key_jwt",
                jwks = new { keys = new[] { new { kty = "oct", k = "c2VjcmV0" } } } }, "invalid_client_metadata", "public keys only"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), token_endpoint_auth_method = "private_key_jwt",
                jwks_uri = "https://169.254.169.254/jwks" }, "invalid_client_metadata", "public"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), token_endpoint_auth_method = "private_key_jwt",
                jwks_uri = "https://keys.example.com/jwks", jwks = JsonDocument.Parse(ClientKeys.Rsa().Jwks).RootElement }, "invalid_client_metadata", "not both"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), token_endpoint_auth_method = "none", grant_types = Strings("refresh_token") }, "invalid_client_metadata", "authorization_code"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), software_statement = "eyJ..." }, "invalid_software_statement", "not accepted"),
            // SSRF: a URL the server itself would call must name a public host.
            (new { redirect_uris = Strings("https://dev.example.com/cb"), backchannel_logout_uri = "https://localhost:8443/logout" }, "invalid_client_metadata", "backchannel_logout_uri"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), backchannel_logout_uri = "https://127.0.0.1/logout" }, "invalid_client_metadata", "public"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), backchannel_logout_uri = "https://169.254.169.254/latest/meta-data" }, "invalid_client_metadata", "public"),
            (new { redirect_uris = Strings("https://dev.example.com/cb"), backchannel_logout_uri = "https://[::ffff:10.0.0.1]/logout" }, "invalid_client_metadata", "public"),
            // A null inside an array is refused by name, never stored as an empty value.
            (new { redirect_uris = new[] { "https://dev.example.com/cb", null } }, "invalid_client_metadata", "redirect_uris[1]"),
        };

        foreach (var (metadata, error, explanation) in cases)
        {
            var (status, body, _) = await RegisterAsync(token, metadata);
            Assert.True(status == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(metadata)}: {(int)status}");
            Assert.Equal(error, body.GetProperty("error").GetString());
            Assert.Contains(explanation, body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        }

        // None of them spent the token's single use.
        var (publicStatus, publicClient, _) = await RegisterAsync(token, new { redirect_uris = Strings("com.example.app:/cb"), token_endpoint_auth_method = "none" });
        Assert.Equal(HttpStatusCode.Created, publicStatus);
        Assert.False(publicClient.TryGetProperty("client_secret", out _));
        Assert.Equal("none", publicClient.GetProperty("token_endpoint_auth_method").GetString());
    }

    [Fact]
    public async Task Admins_list_and_revoke_initial_access_tokens()
    {
        var api = await AdminApi.SharedAsync(server);
        var issued = await api.PostAsync("/admin/api/registration-tokens", new { description = "for the mobile team", max_uses = 3, expires_in = 3600 });
        Assert.Equal(HttpStatusCode.Created, issued.Status);
        var id = issued.Body.GetProperty("id").GetString()!;
        var value = issued.Body.GetProperty("token").GetString()!;
        Assert.DoesNotContain(value, await server.WithDatabaseAsync(db => db.InitialAccessTokens.Select(t => t.ReferenceId).ToListAsync()));

        var listed = (await api.GetAsync("/admin/api/registration-tokens")).Body.EnumerateArray().Single(t => t.GetProperty("id").GetString() == id);
        Assert.Equal(3, listed.GetProperty("remaining_uses").GetInt32());
        Assert.False(listed.TryGetProperty("token", out _));
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync("/admin/api/registration-tokens", new { max_uses = 0 })).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/admin/api/registration-tokens/{id}")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RegisterAsync(value, new { redirect_uris = Strings("https://dev.example.com/cb") })).Status);
    }

    [Fact]
    public async Task A_client_registered_with_its_keys_authenticates_with_private_key_jwt()
    {
        var token = await IssueTokenAsync();
        var keys = ClientKeys.Rsa();
        var (status, body, _) = await RegisterAsync(token, new
        {
            redirect_uris = Strings("https://dev.example.com/callback"),
            token_endpoint_auth_method = "private_key_jwt",
            jwks = JsonDocument.Parse(keys.Jwks).RootElement,
            require_pushed_authorization_requests = true,
        });

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("private_key_jwt", body.GetProperty("token_endpoint_auth_method").GetString());
        Assert.False(body.TryGetProperty("client_secret", out _)); // it has keys, no secret
        Assert.True(body.GetProperty("require_pushed_authorization_requests").GetBoolean());
        var clientId = body.GetProperty("client_id").GetString()!;

        // The registered keys open the PAR endpoint (its request needs no grant beyond authorization_code).
        var (_, challenge) = TestData.NewPkce();
        var form = ClientKeys.Fields(keys.Assertion(clientId, server.Time.GetUtcNow()));
        form["response_type"] = "code";
        form["redirect_uri"] = "https://dev.example.com/callback";
        form["scope"] = "openid";
        form["code_challenge"] = challenge;
        form["code_challenge_method"] = "S256";
        using var push = await server.CreateClient().PostAsync(new Uri("/connect/par", UriKind.Relative), new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Created, push.StatusCode);
    }

    private async Task<string> IssueTokenAsync(int? expiresIn = null)
    {
        var api = await AdminApi.SharedAsync(server);
        var answer = await api.PostAsync("/admin/api/registration-tokens", expiresIn is null ? null : new { expires_in = expiresIn });
        Assert.Equal(HttpStatusCode.Created, answer.Status);
        return answer.Body.GetProperty("token").GetString()!;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> RegisterAsync(string? initialAccessToken, object metadata)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/register") { Content = JsonContent.Create(metadata, metadata.GetType()) };
        if (initialAccessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", initialAccessToken);
        }

        var response = await server.CreateClient().SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }
}
