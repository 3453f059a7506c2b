using IdentityServer.Clients;
using IdentityServer.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>
/// The client form of the admin pages: lists as one entry per line, grant types as checkboxes (one per grant the token
/// endpoint serves), the per-client settings as their table says (<see cref="ClientSettings.Fields"/>; lifetimes in
/// seconds). It only converts; the rules are <see cref="ClientMetadataValidator"/>'s, the same as the API's.
/// </summary>
public sealed class ClientForm
{
    public string? ClientId { get; set; }
    public string? DisplayName { get; set; }
    public string ClientType { get; set; } = ClientTypes.Confidential;
    public string ConsentType { get; set; } = ConsentTypes.Explicit;
    public string? LogoUri { get; set; }
    public string? ClientUri { get; set; }
    public string? RedirectUris { get; set; }
    public string? PostLogoutRedirectUris { get; set; }
    /// <summary>The checked grant types; each has a checkbox named after it (<see cref="GrantTypeField"/>).</summary>
    [ModelBinder(typeof(TableFieldsBinder), Name = "")]
    public List<string> GrantTypes { get; set; } = [IdentityServer.Clients.GrantTypes.AuthorizationCode, IdentityServer.Clients.GrantTypes.RefreshToken];
    /// <summary>Space- or line-separated scope names.</summary>
    public string? Scopes { get; set; } = "openid profile email offline_access";
    public string? Resources { get; set; }
    public bool CanIntrospect { get; set; }
    /// <summary>The text of each setting on the form, keyed (and named) by <see cref="ClientSetting.Key"/>.</summary>
    [ModelBinder(typeof(TableFieldsBinder), Name = "")]
    public Dictionary<string, string?> Settings { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The settings that have a field on the form.</summary>
    public static IEnumerable<ClientSetting> SettingsOnForm => ClientSettings.Fields.Where(f => f.Label is not null);

    /// <summary>The checkbox of a grant type: authorization_code is <c>AuthorizationCode</c>.</summary>
    public static string GrantTypeField(string grantType) =>
        // A URN grant type (urn:ietf:params:oauth:grant-type:device_code) is named by its last part: DeviceCode.
        string.Concat(grantType[(grantType.LastIndexOf(':') + 1)..].Split('_', '-').Select(word => word.Length == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..]));

    public ClientDefinition ToDefinition()
    {
        var settings = new ClientSettings();
        foreach (var setting in SettingsOnForm)
        {
            setting.FromText(settings, Settings.GetValueOrDefault(setting.Key));
        }

        return new ClientDefinition
        {
            ClientId = string.IsNullOrWhiteSpace(ClientId) ? null : ClientId.Trim(),
            DisplayName = DisplayName,
            ClientType = ClientType,
            ConsentType = ConsentType,
            LogoUri = LogoUri,
            ClientUri = ClientUri,
            RedirectUris = Lines(RedirectUris),
            PostLogoutRedirectUris = Lines(PostLogoutRedirectUris),
            GrantTypes = [.. GrantTypes],
            Scopes = Words(Scopes),
            Resources = Lines(Resources),
            CanIntrospect = CanIntrospect,
            Settings = settings,
        };
    }

    public static ClientForm From(ClientDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new ClientForm
        {
            ClientId = definition.ClientId,
            DisplayName = definition.DisplayName,
            ClientType = definition.ClientType,
            ConsentType = definition.ConsentType,
            LogoUri = definition.LogoUri,
            ClientUri = definition.ClientUri,
            RedirectUris = string.Join('\n', definition.RedirectUris),
            PostLogoutRedirectUris = string.Join('\n', definition.PostLogoutRedirectUris),
            GrantTypes = [.. definition.GrantTypes],
            Scopes = string.Join(' ', definition.Scopes),
            Resources = string.Join('\n', definition.Resources),
            CanIntrospect = definition.CanIntrospect,
            Settings = SettingsOnForm.ToDictionary(f => f.Key, f => f.ToText(definition.Settings), StringComparer.Ordinal),
        };
    }

    private static List<string> Lines(string? text) =>
        (text ?? "").Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static List<string> Words(string? text) =>
        (text ?? "").Split([' ', '\r', '\n', '\t', ','], StringSplitOptions.RemoveEmptyEntries).ToList();

    /// <summary>
    /// Binds the fields that come from tables rather than properties, under the form's own prefix (<c>Form.AccessTokenLifetime</c>,
    /// <c>Form.AuthorizationCode</c>): the grant-type checkboxes, one per grant of <see cref="IGrantTypeCatalog"/>, and
    /// the settings on the form. A checkbox posts "true" before its hidden "false"; a field not posted at all keeps its
    /// default, as MVC's own checkboxes do.
    /// </summary>
    private sealed class TableFieldsBinder : IModelBinder
    {
        public Task BindModelAsync(ModelBindingContext bindingContext)
        {
            string? Posted(string field) => bindingContext.ValueProvider.GetValue(ModelNames.CreatePropertyModelName(bindingContext.ModelName, field)).FirstValue;

            if (bindingContext.ModelType == typeof(List<string>))
            {
                var current = bindingContext.Model as List<string> ?? [];
                var catalog = bindingContext.HttpContext.RequestServices.GetRequiredService<IGrantTypeCatalog>();
                bindingContext.Result = ModelBindingResult.Success(catalog.GrantTypes
                    .Where(g => bool.TryParse(Posted(GrantTypeField(g)), out var on) ? on : current.Contains(g))
                    .ToList());
            }
            else
            {
                bindingContext.Result = ModelBindingResult.Success(SettingsOnForm.ToDictionary(f => f.Key, f => Posted(f.Key), StringComparer.Ordinal));
            }

            return Task.CompletedTask;
        }
    }
}
