using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.Json;
using IdentityServer.Admin;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Pages.Admin.Clients;
using IdentityServer.Protocol.Grants;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static IdentityServer.Tests.Admin.TestArrays;

namespace IdentityServer.Tests.Admin;

/// <summary>
/// The per-client settings have one table (<see cref="ClientSettings.Fields"/>) that every edge reads: each setting
/// must make the trip through the admin API's JSON, configuration, the admin form and the validator's errors, so a new
/// row is enough for a new setting. And the client rules take their grant types from the token endpoint's registry.
/// </summary>
[Collection(AdminServer.Name)]
public sealed class ClientSettingsTableTests(SqliteServer server)
{
    private static readonly IGrantTypeCatalog ServedGrantTypes = new TokenGrantRegistry(
        [new(GrantTypes.AuthorizationCode), new(GrantTypes.RefreshToken), new(GrantTypes.ClientCredentials)]);

    /// <summary>How the admin audit log writes details.</summary>
    private static readonly JsonSerializerOptions AuditDetailsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static TheoryData<string> Keys => [.. ClientSettings.Fields.Select(f => f.Key)];

    [Fact]
    public void Every_settings_property_has_exactly_one_row_named_after_it()
    {
        var properties = typeof(ClientSettings).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).Order(StringComparer.Ordinal);

        Assert.Equal(properties, ClientSettings.Fields.Select(f => f.Key).Order(StringComparer.Ordinal));
        Assert.Equal(ClientSettings.Fields.Count, ClientSettings.Fields.Select(f => f.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal("refresh_token_sliding_lifetime", ClientSettings.Find(nameof(ClientSettings.RefreshTokenSlidingLifetime))!.Name);
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void A_setting_round_trips_through_the_admin_api_json(string key)
    {
        var setting = ClientSettings.Find(key)!;
        var options = server.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var metadata = new ClientMetadata { Settings = Sample(setting) };

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(metadata, options));
        var back = JsonSerializer.Deserialize<ClientMetadata>(json.RootElement.GetRawText(), options)!;

        Assert.Equal(JsonSerializer.Serialize(setting.ToJson(metadata.Settings)), json.RootElement.GetProperty(setting.Name).GetRawText());
        Assert.Equal(setting.Value(metadata.Settings), setting.Value(back.Settings));
        Assert.All(ClientSettings.Fields.Where(f => f != setting), other => Assert.Null(other.Value(back.Settings)));
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void A_setting_is_read_from_configuration_under_its_key(string key)
    {
        var setting = ClientSettings.Find(key)!;
        var expected = setting.Value(Sample(setting));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Clients:api:Type"] = "confidential",
            ["Clients:api:ClientSecret"] = "a-long-secret-from-the-environment-0123456789",
            ["Clients:api:GrantTypes:0"] = "client_credentials",
            [$"Clients:api:{setting.Key}"] = expected is TimeSpan t ? t.ToString("c", CultureInfo.InvariantCulture) : Convert.ToString(expected, CultureInfo.InvariantCulture),
        }).Build();

        var definition = ClientSeedOptions.Read(configuration, ServedGrantTypes).Clients.Single().ToDefinition();

        Assert.Equal(expected, setting.Value(definition.Settings));
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void A_broken_setting_is_reported_under_its_name_in_the_api_and_its_key_in_configuration(string key)
    {
        var setting = ClientSettings.Find(key)!;
        var broken = new ClientSettings();
        setting.FromText(broken, setting.FormInput switch
        {
            "number" => "0",
            "url" => "http://not-https.example.com/#fragment",
            "select" => "not-one-of-the-choices",
            "textarea" => "{ not json",
            "text" => "https://ok.example.com/ not-a-uri",
            _ => null,
        });
        var definition = new ClientDefinition { ClientType = ClientTypes.Confidential, GrantTypes = [GrantTypes.ClientCredentials], Settings = broken };

        var error = ClientMetadataValidator.Validate(definition, ServedGrantTypes, knownScopes: null);

        if (setting.FormInput == "checkbox")
        {
            Assert.Null(error); // a yes/no setting has no wrong value
            return;
        }

        Assert.Equal(setting.Name, error?.Field);
        Assert.Contains(setting.Name, error!.Description, StringComparison.Ordinal);
        Assert.Equal(setting.Key, ClientSeedOptions.SettingName(error.Field));
    }

    [Fact]
    public void The_form_shows_and_reads_back_every_setting_it_has_a_field_for()
    {
        var settings = new ClientSettings();
        foreach (var setting in ClientSettings.Fields)
        {
            setting.FromText(settings, SampleText(setting));
        }

        var form = ClientForm.From(new ClientDefinition { Settings = settings });
        var back = form.ToDefinition().Settings;

        Assert.NotEmpty(ClientForm.SettingsOnForm);
        Assert.All(ClientForm.SettingsOnForm, s => Assert.Equal(s.Value(settings), s.Value(back)));
        // Settings without a field (backchannel_logout_session_required) are not on the form, and saving it clears them.
        Assert.All(ClientSettings.Fields.Except(ClientForm.SettingsOnForm), s => Assert.Null(s.Value(back)));
    }

    [Fact]
    public void The_audit_details_of_a_definition_carry_the_settings_flat_under_their_names()
    {
        var definition = new ClientDefinition { ClientId = "web", Settings = new ClientSettings { AccessTokenLifetime = TimeSpan.FromMinutes(5) } };

        using var details = JsonDocument.Parse(JsonSerializer.Serialize(definition, AuditDetailsJson));

        Assert.Equal("00:05:00", details.RootElement.GetProperty("access_token_lifetime").GetString());
        Assert.All(ClientSettings.Fields, s => Assert.True(details.RootElement.TryGetProperty(s.Name, out _), s.Name));
        Assert.False(details.RootElement.TryGetProperty("settings", out _));
    }

    [Fact]
    public void The_client_rules_accept_exactly_the_grant_types_the_token_endpoint_serves()
    {
        var codeOnly = new TokenGrantRegistry([new(GrantTypes.AuthorizationCode)]);
        var withExtension = new TokenGrantRegistry([new(GrantTypes.AuthorizationCode), new("urn:example:grant")]);
        ClientDefinition Client(params string[] grantTypes) =>
            new() { ClientType = ClientTypes.Confidential, GrantTypes = grantTypes, RedirectUris = Strings("https://app.example.com/cb") };

        var refused = ClientMetadataValidator.Validate(Client(GrantTypes.AuthorizationCode, GrantTypes.ClientCredentials), codeOnly, knownScopes: null);

        Assert.Equal("grant_types", refused?.Field);
        Assert.Equal("The grant type 'client_credentials' is not supported; use authorization_code.", refused!.Description);
        Assert.Null(ClientMetadataValidator.Validate(Client(GrantTypes.AuthorizationCode, "urn:example:grant"), withExtension, knownScopes: null));
        // The rules that name grant types still hold, whatever the registry serves.
        Assert.Equal("grant_types", ClientMetadataValidator.Validate(Client(GrantTypes.RefreshToken), ServedGrantTypes, knownScopes: null)?.Field);
        var publicClient = Client(GrantTypes.AuthorizationCode, GrantTypes.ClientCredentials);
        publicClient.ClientType = ClientTypes.Public;
        Assert.Contains("public client", ClientMetadataValidator.Validate(publicClient, ServedGrantTypes, knownScopes: null)!.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_declared_client_with_a_grant_type_the_token_endpoint_does_not_serve_stops_startup()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Clients:web:RedirectUris:0"] = "https://app.example.com/cb",
            ["Clients:web:GrantTypes:0"] = "authorization_code",
            ["Clients:web:GrantTypes:1"] = "refresh_token",
        }).Build();

        var error = Assert.Throws<StartupConfigurationException>(() => ClientSeedOptions.Read(configuration, new TokenGrantRegistry([new(GrantTypes.AuthorizationCode)])));

        Assert.Equal("Clients:web:GrantTypes", error.Setting);
        Assert.Contains("use authorization_code.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_page_offers_a_checkbox_per_served_grant_type_and_saves_the_settings_typed_in()
    {
        var admin = await AdminApi.CreateAdminAsync(server);
        using var browser = new BrowserSession(server);
        await OAuthFlow.SignInAsync(browser, await browser.GetAsync("/admin"), admin.UserName!);
        var clientId = "table-" + Guid.NewGuid().ToString("N")[..8];
        var form = await browser.GetAsync("/admin/clients/new");
        var page = await BrowserSession.ReadPageAsync(form);
        var grantTypes = server.Services.GetRequiredService<IGrantTypeCatalog>().GrantTypes;
        Assert.Equal(grantTypes.Select(ClientForm.GrantTypeField).Select(f => "Form." + f),
            page.QuerySelectorAll("input[type=checkbox][name^='Form.']").Select(e => e.GetAttribute("name")!)
                .Where(n => n != "Form.CanIntrospect" && ClientSettings.Find(n["Form.".Length..]) is null));

        var created = await browser.SubmitAsync(form, new()
        {
            ["Form.ClientId"] = clientId,
            ["Form.RedirectUris"] = "https://table.example.com/cb",
            ["Form.ClientCredentials"] = "false",
            ["Form.DeviceCode"] = "false",
            ["Form.TokenExchange"] = "false",
            ["Form.TokenExchangeImpersonation"] = "false",
            ["Form.TokenExchangeDelegation"] = "false",
            ["Form.CanIntrospect"] = "false",
            ["Form.AccessTokenLifetime"] = "300",
            ["Form.RefreshTokenSlidingLifetime"] = "",
            ["Form.Resource"] = "https://table.example.com/api",
        });

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var row = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        var client = ClientDescriptor.From(row);
        Assert.Equal(Strings(GrantTypes.AuthorizationCode, GrantTypes.RefreshToken), client.GrantTypes.Order(StringComparer.Ordinal));
        Assert.Equal(TimeSpan.FromMinutes(5), client.Settings.AccessTokenLifetime);
        Assert.Null(client.Settings.RefreshTokenSlidingLifetime);
        Assert.Equal("https://table.example.com/api", client.ResourceIdentifier);

        // The client's page shows them again, in the same fields.
        var edit = await BrowserSession.ReadPageAsync(await browser.GetAsync($"/admin/clients/{clientId}"));
        Assert.Equal("300", edit.QuerySelector("input[name='Form.AccessTokenLifetime']")?.GetAttribute("value"));
        Assert.Equal("https://table.example.com/api", edit.QuerySelector("input[name='Form.Resource']")?.GetAttribute("value"));
        Assert.Null(edit.QuerySelector("input[name='Form.ClientCredentials'][type=checkbox]")?.GetAttribute("checked"));
        Assert.NotNull(edit.QuerySelector("input[name='Form.RefreshToken'][type=checkbox]")?.GetAttribute("checked"));
    }

    /// <summary>A valid value of the setting, and nothing else set.</summary>
    private static ClientSettings Sample(ClientSetting setting)
    {
        var settings = new ClientSettings();
        setting.FromText(settings, SampleText(setting));
        Assert.NotNull(setting.Value(settings));
        return settings;
    }

    private static string SampleText(ClientSetting setting) => setting.FormInput switch
    {
        "number" => "300",
        "url" => "https://rs.example.com/api",
        "select" => setting.Choices[0],
        "textarea" => SampleJwks,
        "text" => "https://rs.example.com/api https://other.example.com/",
        _ => "true",
    };

    /// <summary>The one JSON setting today is a JWK Set (jwks): one public key.</summary>
    private static readonly string SampleJwks = ClientKeys.Rsa().Jwks;
}
