using IdentityServer.Data;
using IdentityServer.Hosting;

namespace IdentityServer.Clients;

/// <summary>
/// Declarative registration (configuration as code): the clients and scopes of the root <c>Clients</c> and <c>Scopes</c>
/// sections, keyed by client_id and scope name, are created or brought up to date at start. Running it again with the
/// same configuration changes nothing. The older <c>Seed:Clients</c> / <c>Seed:Scopes</c> lists are still read.
/// </summary>
/// <example>
/// <c>"Clients": { "web": { "Type": "confidential", "RedirectUris": [ "https://app.example.com/cb" ] } }</c>, with the
/// secret from the environment: <c>Clients__web__ClientSecret=...</c> (at least 32 characters).
/// </example>
public sealed class ClientSeedOptions
{
    public const string ClientsSection = "Clients";
    public const string ScopesSection = "Scopes";
    public const string LegacySection = "Seed";

    /// <summary>The setting of <see cref="SecretRotationGracePeriod"/>, which the admin API's rotation uses too.</summary>
    public const string SecretRotationGracePeriodSetting = "Admin:SecretRotationGracePeriod";

    public List<SeedClient> Clients { get; } = [];
    public List<SeedScope> Scopes { get; } = [];

    /// <summary>When a declared secret changes, how long the old one keeps working.</summary>
    public TimeSpan SecretRotationGracePeriod { get; private set; } = ClientSecrets.DefaultRotationGracePeriod;

    /// <summary>
    /// Reads both shapes and checks everything that needs no database, so a mistake stops startup with one line naming
    /// the setting (for example <c>Clients:web:ClientSecret</c>). Scope names are checked at start, against the database.
    /// </summary>
    /// <param name="configuration">The configuration.</param>
    /// <param name="grantTypes">The grant types the token endpoint serves: the only ones a declared client may have.</param>
    public static ClientSeedOptions Read(IConfiguration configuration, IGrantTypeCatalog grantTypes)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(grantTypes);
        var options = new ClientSeedOptions
        {
            SecretRotationGracePeriod = configuration.ReadSetting(SecretRotationGracePeriodSetting, ClientSecrets.DefaultRotationGracePeriod),
        };
        foreach (var section in configuration.GetSection(ScopesSection).GetChildren())
        {
            options.Add(Bind<SeedScope>(section, scope => scope.Name = string.IsNullOrEmpty(scope.Name) ? section.Key : scope.Name));
        }

        foreach (var section in configuration.GetSection(LegacySection).GetSection(ScopesSection).GetChildren())
        {
            options.Add(Bind<SeedScope>(section, _ => { }));
        }

        foreach (var section in configuration.GetSection(ClientsSection).GetChildren())
        {
            options.Add(BindClient(section, keyIsClientId: true), grantTypes);
        }

        foreach (var section in configuration.GetSection(LegacySection).GetSection(ClientsSection).GetChildren())
        {
            options.Add(BindClient(section, keyIsClientId: false), grantTypes);
        }

        return options;
    }

    private static SeedClient BindClient(IConfigurationSection section, bool keyIsClientId) => Bind<SeedClient>(section, client =>
    {
        if (keyIsClientId && string.IsNullOrEmpty(client.ClientId))
        {
            client.ClientId = section.Key;
        }

        // The per-client settings bind straight onto ClientSettings: a property's name is its key (Clients:web:AccessTokenLifetime).
        client.Settings = section.BindSetting<ClientSettings>(reportUnknownKeys: false) ?? new ClientSettings();
    });

    private static T Bind<T>(IConfigurationSection section, Action<T> complete) where T : SeedItem, new()
    {
        var item = section.BindSetting<T>(reportUnknownKeys: false) ?? new T();
        item.Setting = section.Path;
        complete(item);
        return item;
    }

    private void Add(SeedScope scope)
    {
        if (scope.ToDefinition().Validate() is { } error)
        {
            throw new StartupConfigurationException($"{scope.Setting}:{SettingName(error.Field)}", error.Description);
        }

        if (Scopes.Any(s => s.Name == scope.Name))
        {
            throw new StartupConfigurationException(scope.Setting, $"the scope '{scope.Name}' is declared twice.");
        }

        Scopes.Add(scope);
    }

    private void Add(SeedClient client, IGrantTypeCatalog grantTypes)
    {
        if (client.Validate(grantTypes, knownScopes: null) is { } error)
        {
            throw new StartupConfigurationException(client.SettingOf(error), error.Description);
        }

        if (Clients.Any(c => c.ClientId == client.ClientId))
        {
            throw new StartupConfigurationException(client.Setting, $"the client '{client.ClientId}' is declared twice.");
        }

        Clients.Add(client);
    }

    /// <summary>The configuration key of a metadata field (RFC 7591 name) in the seed shape.</summary>
    internal static string SettingName(string field) => ClientSettings.Find(field)?.Key ?? field switch
    {
        "client_id" => nameof(SeedClient.ClientId),
        "client_secret" => nameof(SeedClient.ClientSecret),
        "client_type" => nameof(SeedClient.Type),
        "consent_type" => nameof(SeedClient.ConsentType),
        "client_name" => nameof(SeedClient.DisplayName),
        "can_introspect" => nameof(SeedClient.CanIntrospect),
        "name" => nameof(SeedScope.Name),
        "display_name" => nameof(SeedScope.DisplayName),
        // snake_case to PascalCase: redirect_uris -> RedirectUris, access_token_lifetime -> AccessTokenLifetime.
        _ => string.Concat(field.Split('_').Select(word => word.Length == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..])),
    };
}

/// <summary>A declared client or scope, remembering where in the configuration it came from (for error messages).</summary>
public abstract class SeedItem
{
    internal string Setting { get; set; } = "";
}

public sealed class SeedClient : SeedItem
{
    /// <summary>Under the root <c>Clients</c> section, the section's key.</summary>
    public string ClientId { get; set; } = "";
    /// <summary>Only for confidential clients, at least 32 characters; give it through an environment variable or a secret store, never in a committed file.</summary>
    public string? ClientSecret { get; set; }
    public string Type { get; set; } = ClientTypes.Public;
    /// <summary><c>implicit</c> (first-party, no consent page) or <c>explicit</c> (third-party).</summary>
    public string ConsentType { get; set; } = ConsentTypes.Explicit;
    public string? DisplayName { get; set; }
    public string? LogoUri { get; set; }
    public string? ClientUri { get; set; }
    public List<string> RedirectUris { get; set; } = [];
    public List<string> PostLogoutRedirectUris { get; set; } = [];
    public List<string> GrantTypes { get; set; } = [];
    public List<string> Scopes { get; set; } = [];
    public List<string> Resources { get; set; } = [];
    public bool CanIntrospect { get; set; }
    /// <summary>The per-client settings, bound from the same section (<see cref="ClientSeedOptions.Read"/>); not a key of its own.</summary>
    internal ClientSettings Settings { get; set; } = new();

    public ClientDefinition ToDefinition() => new()
    {
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        ClientType = Type,
        ConsentType = ConsentType,
        DisplayName = DisplayName,
        LogoUri = LogoUri,
        ClientUri = ClientUri,
        RedirectUris = RedirectUris,
        PostLogoutRedirectUris = PostLogoutRedirectUris,
        GrantTypes = GrantTypes,
        Scopes = Scopes,
        Resources = Resources,
        CanIntrospect = CanIntrospect,
        Settings = Settings,
    };

    /// <summary>The admin API's rules, except that the secret comes from configuration (and must be long).</summary>
    internal ClientMetadataError? Validate(IGrantTypeCatalog grantTypes, IReadOnlySet<string>? knownScopes) =>
        ClientMetadataValidator.Validate(ToDefinition(), grantTypes, knownScopes, secretMayBeSupplied: true);

    internal string SettingOf(ClientMetadataError error) => $"{Setting}:{ClientSeedOptions.SettingName(error.Field)}";
}

public sealed class SeedScope : SeedItem
{
    /// <summary>Under the root <c>Scopes</c> section, the section's key.</summary>
    public string Name { get; set; } = "";
    public string? DisplayName { get; set; }
    public string? Description { get; set; }
    public List<string> Resources { get; set; } = [];
    /// <summary>The custom user claim types the scope releases.</summary>
    public List<string> Claims { get; set; } = [];

    public ScopeDefinition ToDefinition() => new() { Name = Name, DisplayName = DisplayName, Description = Description, Resources = Resources, Claims = Claims };
}
