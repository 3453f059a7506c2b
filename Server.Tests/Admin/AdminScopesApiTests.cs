using System.Net;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>The admin API for scopes and their resources (audiences).</summary>
[Collection(AdminServer.Name)]
public sealed class AdminScopesApiTests(SqliteServer server)
{
    [Fact]
    public async Task Scopes_are_created_read_replaced_and_deleted_and_the_protocol_sees_them_at_once()
    {
        var api = await AdminApi.SharedAsync(server);
        var name = "invoices-" + Guid.NewGuid().ToString("N")[..8];

        var created = await api.PostAsync("/admin/api/scopes", new { name, display_name = "Your invoices", resources = Strings("https://invoices.example.com") });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal($"/admin/api/scopes/{name}", created.Response.Headers.Location?.ToString());
        var catalog = server.Services.GetRequiredService<ScopeCatalog>();
        Assert.Equal(Strings("https://invoices.example.com"), (await catalog.GetAllAsync())[name].Resources);

        var replaced = await api.PutAsync($"/admin/api/scopes/{name}", new { display_name = "Invoices", description = "Read them", resources = Strings("https://billing.example.com") });
        Assert.Equal(HttpStatusCode.OK, replaced.Status);
        Assert.Equal("Read them", replaced.Body.GetProperty("description").GetString());
        Assert.Equal(Strings("https://billing.example.com"), (await catalog.GetAllAsync())[name].Resources);
        Assert.Contains((await api.GetAsync("/admin/api/scopes")).Body.EnumerateArray(), s => s.GetProperty("name").GetString() == name);
        Assert.Equal("Invoices", (await api.GetAsync($"/admin/api/scopes/{name}")).Body.GetProperty("display_name").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/admin/api/scopes/{name}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/admin/api/scopes/{name}")).Status);
        Assert.False((await catalog.GetAllAsync()).ContainsKey(name));
    }

    [Theory]
    [InlineData("openid", "built-in")]
    [InlineData("admin", "built-in")]
    [InlineData("two words", "scope name")]
    [InlineData("", "scope name")]
    public async Task Reserved_and_malformed_names_are_refused(string name, string explanation)
    {
        var api = await AdminApi.SharedAsync(server);

        var answer = await api.PostAsync("/admin/api/scopes", new { name });

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("invalid_request", answer.Error);
        Assert.Contains(explanation, answer.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resources_must_be_absolute_uris_names_unique_and_a_scope_in_use_cannot_be_deleted()
    {
        var api = await AdminApi.SharedAsync(server);
        var name = "reports-" + Guid.NewGuid().ToString("N")[..8];
        var bad = await api.PostAsync("/admin/api/scopes", new { name, resources = Strings("reports") });
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Contains("RFC 8707", bad.Description, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync("/admin/api/scopes", new { name })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync("/admin/api/scopes", new { name })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PutAsync($"/admin/api/scopes/{name}", new { name = "renamed" })).Status);

        var definition = AdminApi.WebClient();
        definition["scopes"] = Strings(name);
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync("/admin/api/clients", definition)).Status);
        var inUse = await api.DeleteAsync($"/admin/api/scopes/{name}");
        Assert.Equal(HttpStatusCode.Conflict, inUse.Status);
        Assert.Contains((string)definition["client_id"]!, inUse.Description, StringComparison.Ordinal);
    }
}
