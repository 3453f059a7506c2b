using System.Net;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>The admin API for clients: registration, reading, replacing, deleting, rotating secrets, and its audit.</summary>
[Collection(AdminServer.Name)]
public sealed class AdminClientsApiTests(SqliteServer server)
{
    [Fact]
    public async Task A_confidential_client_is_registered_and_its_secret_is_returned_once_and_never_stored()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        var definition = AdminApi.WebClient();
        definition["post_logout_redirect_uris"] = Strings("https://app.example.com/signed-out");
        definition["access_token_lifetime"] = 300;
        definition["logo_uri"] = "https://app.example.com/logo.png";
        var clientId = (string)definition["client_id"]!;

        var created = await api.PostAsync("/admin/api/clients", definition);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal($"/admin/api/clients/{clientId}", created.Response.Headers.Location?.ToString());
        Assert.Equal("no-store", created.Response.Headers.CacheControl?.ToString());
        var secret = created.Body.GetProperty("client_secret").GetString()!;
        Assert.Equal(43, secret.Length); // 256 bits, base64url
        Assert.True(created.Body.GetProperty("enabled").GetBoolean());
        Assert.Equal(300, created.Body.GetProperty("access_token_lifetime").GetInt32());
        Assert.Equal(Strings("offline_access", "openid", "profile"), created.Body.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).Order(StringComparer.Ordinal));

        // Never again: not in a read, not in the database (only its SHA-256), not in the audit log.
        var read = await api.GetAsync($"/admin/api/clients/{clientId}");
        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.False(read.Body.TryGetProperty("client_secret", out _));
        Assert.True(read.Body.GetProperty("has_secret").GetBoolean());
        Assert.DoesNotContain(secret, read.Body.GetRawText(), StringComparison.Ordinal);
        var row = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        Assert.Equal(ClientSecrets.Hash(secret), row.ClientSecretHash);
        var everything = await DatabaseText.DumpAsync(server);
        Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);

        // And it works: the token endpoint accepts it (here with the client_credentials grant of a second client).
        var client = new TestClient(clientId, secret, "https://app.example.com/callback", row.Id);
        var (status, _, _) = await OAuthFlow.PostTokenAsync(server.CreateClient(), client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = new string('a', 43) });
        Assert.Equal(HttpStatusCode.BadRequest, status); // invalid_grant: authenticated, the token is unknown
    }

    [Fact]
    public async Task A_client_registered_without_scopes_gets_openid()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        var definition = AdminApi.WebClient();
        definition.Remove("scopes");

        var created = await api.PostAsync("/admin/api/clients", definition);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(Strings("openid"), created.Body.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        var read = await api.GetAsync($"/admin/api/clients/{definition["client_id"]}");
        Assert.Equal(Strings("openid"), read.Body.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task A_public_native_client_with_loopback_and_private_use_redirects_has_no_secret()
    {
        var api = await AdminApi.ForNewAdminAsync(server);

        var created = await api.PostAsync("/admin/api/clients", new Dictionary<string, object?>
        {
            ["client_name"] = "Desktop app",
            ["client_type"] = "public",
            ["consent_type"] = "implicit",
            ["redirect_uris"] = Strings("http://127.0.0.1/callback", "http://[::1]:8123/callback", "com.example.desktop:/oauth2redirect"),
            ["grant_types"] = Strings("authorization_code", "refresh_token"),
            ["scopes"] = Strings("openid", "offline_access"),
        });

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.False(created.Body.TryGetProperty("client_secret", out _));
        Assert.False(created.Body.GetProperty("has_secret").GetBoolean());
        var clientId = created.Body.GetProperty("client_id").GetString()!;
        Assert.Matches("^[A-Za-z0-9_-]{22}$", clientId); // generated: 128 random bits
        var row = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        Assert.Null(row.ClientSecretHash);
        Assert.Equal(ConsentTypes.Implicit, row.ConsentType);
    }

    [Fact]
    public async Task Clients_are_listed_replaced_and_deleted_with_their_grants()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        var definition = AdminApi.WebClient();
        var clientId = (string)definition["client_id"]!;
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync("/admin/api/clients", definition)).Status);

        var list = await api.GetAsync("/admin/api/clients");
        Assert.Contains(list.Body.EnumerateArray(), c => c.GetProperty("client_id").GetString() == clientId);

        definition["client_name"] = "Renamed app";
        definition["redirect_uris"] = Strings("https://app.example.com/new-callback");
        definition["can_introspect"] = true;
        definition["resource"] = "https://api.example.com";
        var replaced = await api.PutAsync($"/admin/api/clients/{clientId}", definition);
        Assert.Equal(HttpStatusCode.OK, replaced.Status);
        Assert.Equal("Renamed app", replaced.Body.GetProperty("client_name").GetString());
        Assert.False(replaced.Body.TryGetProperty("client_secret", out _)); // it kept its secret
        var descriptor = await ClientDescriptorOf(clientId);
        Assert.Equal(Strings("https://app.example.com/new-callback"), descriptor!.RedirectUris);
        Assert.True(descriptor.CanIntrospect);
        Assert.Equal("https://api.example.com", descriptor.ResourceIdentifier);

        definition["client_id"] = "another-id";
        var rename = await api.PutAsync($"/admin/api/clients/{clientId}", definition);
        Assert.Equal(HttpStatusCode.BadRequest, rename.Status);
        Assert.Equal("invalid_client_metadata", rename.Error);

        // A grant of this client, to show the delete takes it along.
        var user = await TestData.CreateUserAsync(server);
        var application = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        await server.WithDatabaseAsync(async db =>
        {
            db.Authorizations.Add(new OAuthAuthorization { ApplicationId = application.Id, Subject = user.Id, Status = Statuses.Valid, Type = AuthorizationTypes.Permanent });
            await db.SaveChangesAsync();
        });

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/admin/api/clients/{clientId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/admin/api/clients/{clientId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync($"/admin/api/clients/{clientId}")).Status);
        Assert.Null(await ClientDescriptorOf(clientId));
        Assert.False(await server.WithDatabaseAsync(db => db.Authorizations.AnyAsync(a => a.ApplicationId == application.Id)));
    }

    [Fact]
    public async Task Switching_between_public_and_confidential_drops_or_issues_the_secret()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        var definition = AdminApi.WebClient();
        var clientId = (string)definition["client_id"]!;
        await api.PostAsync("/admin/api/clients", definition);

        definition["client_type"] = "public";
        var toPublic = await api.PutAsync($"/admin/api/clients/{clientId}", definition);
        Assert.Equal(HttpStatusCode.OK, toPublic.Status);
        Assert.Null(await server.WithDatabaseAsync(db => db.Applications.Where(a => a.ClientId == clientId).Select(a => a.ClientSecretHash).SingleAsync()));

        definition["client_type"] = "confidential";
        var toConfidential = await api.PutAsync($"/admin/api/clients/{clientId}", definition);
        var secret = toConfidential.Body.GetProperty("client_secret").GetString()!;
        Assert.Equal(ClientSecrets.Hash(secret), await server.WithDatabaseAsync(db => db.Applications.Where(a => a.ClientId == clientId).Select(a => a.ClientSecretHash).SingleAsync()));
    }

    [Fact]
    public async Task A_client_id_is_registered_only_once()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        var definition = AdminApi.WebClient();
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync("/admin/api/clients", definition)).Status);

        var again = await api.PostAsync("/admin/api/clients", definition);

        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal("invalid_client_metadata", again.Error);
        Assert.Contains("already registered", again.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotating_a_secret_keeps_the_old_one_for_the_grace_period_only()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        var definition = AdminApi.WebClient();
        definition["grant_types"] = Strings("client_credentials");
        definition["redirect_uris"] = Array.Empty<string>();
        definition["scopes"] = Array.Empty<string>();
        var clientId = (string)definition["client_id"]!;
        var oldSecret = (await api.PostAsync("/admin/api/clients", definition)).Body.GetProperty("client_secret").GetString()!;

        var rotated = await api.PostAsync($"/admin/api/clients/{clientId}/secret", new { grace_period_seconds = 3600 });

        Assert.Equal(HttpStatusCode.OK, rotated.Status);
        var newSecret = rotated.Body.GetProperty("client_secret").GetString()!;
        Assert.NotEqual(oldSecret, newSecret);
        var expires = rotated.Body.GetProperty("previous_secret_expires_at").GetDateTime();
        Assert.InRange(expires, server.Time.GetUtcNow().UtcDateTime.AddMinutes(59), server.Time.GetUtcNow().UtcDateTime.AddMinutes(61));
        Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync(clientId, newSecret));
        Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync(clientId, oldSecret));

        server.Time.Advance(TimeSpan.FromMinutes(61));
        Assert.Equal(HttpStatusCode.Unauthorized, await ClientCredentialsAsync(clientId, oldSecret));
        Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync(clientId, newSecret));

        // Without a grace period the old secret stops at once (a fresh admin token: the first one expired meanwhile).
        api = await AdminApi.ForNewAdminAsync(server);
        var immediate = await api.PostAsync($"/admin/api/clients/{clientId}/secret", new { grace_period_seconds = 0 });
        Assert.Equal(HttpStatusCode.Unauthorized, await ClientCredentialsAsync(clientId, newSecret));
        Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync(clientId, immediate.Body.GetProperty("client_secret").GetString()!));
        Assert.Equal(JsonValueKindNull, immediate.Body.GetProperty("previous_secret_expires_at").ValueKind);
        Assert.DoesNotContain(newSecret, await DatabaseText.DumpAsync(server), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotation_without_a_body_uses_the_configured_grace_period_and_is_refused_for_public_clients()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        var definition = AdminApi.WebClient();
        var clientId = (string)definition["client_id"]!;
        await api.PostAsync("/admin/api/clients", definition);

        var rotated = await api.PostAsync($"/admin/api/clients/{clientId}/secret");

        Assert.Equal(HttpStatusCode.OK, rotated.Status);
        var expected = server.Time.GetUtcNow().UtcDateTime.AddDays(1); // Admin:SecretRotationGracePeriod default
        Assert.InRange(rotated.Body.GetProperty("previous_secret_expires_at").GetDateTime(), expected.AddMinutes(-1), expected.AddMinutes(1));

        var tooLong = await api.PostAsync($"/admin/api/clients/{clientId}/secret", new { grace_period_seconds = 365L * 86400 });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.Status);

        definition["client_type"] = "public";
        await api.PutAsync($"/admin/api/clients/{clientId}", definition);
        var publicRotation = await api.PostAsync($"/admin/api/clients/{clientId}/secret");
        Assert.Equal(HttpStatusCode.BadRequest, publicRotation.Status);
        Assert.Contains("public client", publicRotation.Description, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync("/admin/api/clients/no-such-client/secret")).Status);
    }

    [Fact]
    public async Task Every_change_is_recorded_with_who_what_and_when()
    {
        var api = await AdminApi.ForNewAdminAsync(server);
        var definition = AdminApi.WebClient();
        var clientId = (string)definition["client_id"]!;
        await api.PostAsync("/admin/api/clients", definition);
        await api.PostAsync($"/admin/api/clients/{clientId}/disable");
        await api.PostAsync($"/admin/api/clients/{clientId}/secret");
        await api.DeleteAsync($"/admin/api/clients/{clientId}");

        var audit = await api.GetAsync($"/admin/api/audit?target=client:{clientId}");

        Assert.Equal(HttpStatusCode.OK, audit.Status);
        // Only the admin changes (the log may also hold security events about the client).
        var entries = audit.Body.EnumerateArray().Where(e => e.GetProperty("action").GetString()!.StartsWith("client.", StringComparison.Ordinal)).ToList();
        Assert.Equal(Strings("client.created", "client.deleted", "client.disabled", "client.secret_rotated"), entries.Select(e => e.GetProperty("action").GetString()).Order(StringComparer.Ordinal));
        Assert.All(entries, e =>
        {
            Assert.Equal(api.User.Id, e.GetProperty("actor_id").GetString());
            Assert.Equal(api.User.UserName, e.GetProperty("actor_name").GetString());
            Assert.InRange(e.GetProperty("timestamp").GetDateTime(), server.Time.GetUtcNow().UtcDateTime.AddMinutes(-1), server.Time.GetUtcNow().UtcDateTime.AddMinutes(1));
        });
        var created = entries.Single(e => e.GetProperty("action").GetString() == "client.created");
        Assert.Equal("https://app.example.com/callback", created.GetProperty("details").GetProperty("redirect_uris")[0].GetString());
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    private async Task<HttpStatusCode> ClientCredentialsAsync(string clientId, string secret)
    {
        var (status, _, _) = await OAuthFlow.PostTokenAsync(server.CreateClient(), new TestClient(clientId, secret, "", ""), new() { ["grant_type"] = "client_credentials" });
        return status;
    }

    private async Task<ClientDescriptor?> ClientDescriptorOf(string clientId)
    {
        var row = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().FirstOrDefaultAsync(a => a.ClientId == clientId));
        return row is null ? null : ClientDescriptor.From(row);
    }
}
