using System.Net;
using System.Text.RegularExpressions;
using IdentityServer.Data;

namespace IdentityServer.Clients;

/// <summary>The error codes of RFC 7591 §3.2.2, used by the admin API as well as by dynamic registration.</summary>
public static class RegistrationErrors
{
    public const string InvalidRedirectUri = "invalid_redirect_uri";
    public const string InvalidClientMetadata = "invalid_client_metadata";
    public const string InvalidSoftwareStatement = "invalid_software_statement";
    /// <summary>Not RFC 7591: for requests that are not client metadata (scopes, users), RFC 6749 §5.2's generic code.</summary>
    public const string InvalidRequest = "invalid_request";
}

/// <summary>An RFC 7591 §3.2.2 error, with the metadata field it is about (for forms and configuration errors).</summary>
public sealed record ClientMetadataError(string Error, string Description, string Field);

/// <summary>
/// Checks a <see cref="ClientDefinition"/> before it is stored. Every rule cites where it comes from; the first broken
/// rule is reported, in the RFC 7591 §3.2.2 shape.
/// </summary>
public static partial class ClientMetadataValidator
{
    public const int MinimumSuppliedSecretLength = 32;
    private const int MaxUriLength = 2048;

    /// <param name="definition">The client.</param>
    /// <param name="grantTypes">The grant types the token endpoint serves: the only ones a client may have.</param>
    /// <param name="knownScopes">The scopes that exist; null skips that check (it needs the database).</param>
    /// <param name="secretMayBeSupplied">True only for configuration seeding, where the secret comes from the environment.</param>
    public static ClientMetadataError? Validate(ClientDefinition definition, IGrantTypeCatalog grantTypes, IReadOnlySet<string>? knownScopes,
        bool secretMayBeSupplied = false)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(grantTypes);
        return ValidateIdentity(definition)
            ?? ValidateSecret(definition, secretMayBeSupplied)
            ?? ValidateGrantTypes(definition, grantTypes.GrantTypes)
            ?? ValidateRedirectUris(definition)
            ?? ValidateScopesAndResources(definition, knownScopes)
            ?? ValidateSettings(definition.Settings)
            ?? ValidateClientAuthentication(definition);
    }

    /// <summary>
    /// private_key_jwt (RFC 7523, OpenID Connect Core §9) is for confidential clients with keys to verify: jwks or
    /// jwks_uri, never both (RFC 7591 §2 "MUST NOT both be present").
    /// </summary>
    private static ClientMetadataError? ValidateClientAuthentication(ClientDefinition d)
    {
        var settings = d.Settings;
        var hasJwks = !string.IsNullOrWhiteSpace(settings.Jwks);
        var hasJwksUri = !string.IsNullOrWhiteSpace(settings.JwksUri);
        if (hasJwks && hasJwksUri)
        {
            return Metadata("jwks", "Register jwks or jwks_uri, not both (RFC 7591 §2).");
        }

        if (settings.TokenEndpointAuthMethod is not { Length: > 0 } method || method == ClientAuthenticationMethods.None)
        {
            return null;
        }

        if (!d.IsConfidential)
        {
            return Metadata("token_endpoint_auth_method", "A public client authenticates with none; it has no secret and no keys.");
        }

        return method == ClientAuthenticationMethods.PrivateKeyJwt && !hasJwks && !hasJwksUri
            ? Metadata("jwks_uri", "private_key_jwt needs the client's public keys: jwks_uri or jwks.")
            : null;
    }

    /// <summary>
    /// A redirect URI an app may register (RFC 6749 §3.1.2, RFC 9700 §2.1, RFC 8252 §7): absolute, no fragment; https,
    /// or http on the loopback IP literals 127.0.0.1 and [::1] (any port, RFC 8252 §7.3; "localhost" is not accepted,
    /// §8.3), or a private-use scheme in reverse-domain form for native apps (§7.1). Returns why not, or null.
    /// </summary>
    public static string? RedirectUriProblem(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "A redirect URI is empty.";
        }

        if (value.Length > MaxUriLength || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return $"'{Shorten(value)}' is too long or contains spaces.";
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || value.StartsWith('/'))
        {
            return $"'{Shorten(value)}' is not an absolute URI.";
        }

        if (value.Contains('#', StringComparison.Ordinal))
        {
            return $"'{Shorten(value)}' has a fragment; redirect URIs must not (RFC 6749 §3.1.2).";
        }

        if (uri.Scheme == Uri.UriSchemeHttps)
        {
            return string.IsNullOrEmpty(uri.Host) ? $"'{Shorten(value)}' has no host." : UserInfoProblem(uri, value);
        }

        if (uri.Scheme == Uri.UriSchemeHttp)
        {
            return IsLoopbackLiteral(uri)
                ? UserInfoProblem(uri, value)
                : $"'{Shorten(value)}' uses http; use https, or http only with the loopback address 127.0.0.1 or [::1] (RFC 8252 §7.3).";
        }

        // RFC 8252 §7.1: private-use schemes are reverse domain names (com.example.app:/callback); this also keeps out
        // javascript:, data:, file: and the like, none of which contain a period.
        return PrivateUseScheme().IsMatch(uri.Scheme)
            ? null
            : $"'{Shorten(value)}' uses the scheme '{uri.Scheme}'; native apps must use a reverse-domain private-use scheme such as com.example.app (RFC 8252 §7.1).";
    }

    /// <summary>A scope name as RFC 6749 §3.3 defines scope-token: printable ASCII without space, '"' and '\'.</summary>
    public static bool IsScopeToken(string? value) => value is { Length: > 0 and <= 200 } && value.All(c => c is >= '\x21' and <= '\x7e' and not '"' and not '\\');

    /// <summary>An RFC 8707 §2 resource indicator: an absolute URI without a fragment.</summary>
    public static bool IsResourceIndicator(string? value) =>
        value is { Length: > 0 and <= MaxUriLength } && Uri.TryCreate(value, UriKind.Absolute, out _) && !value.Contains('#', StringComparison.Ordinal)
        && !value.StartsWith('/');

    private static ClientMetadataError? ValidateIdentity(ClientDefinition d)
    {
        if (d.ClientId is not null && !ClientIdFormat().IsMatch(d.ClientId))
        {
            return Metadata("client_id", "client_id must be 1 to 100 characters of letters, digits, '.', '_', '~' and '-'.");
        }

        if (d.ClientType is not (ClientTypes.Public or ClientTypes.Confidential))
        {
            return Metadata("client_type", "client_type must be 'public' or 'confidential'.");
        }

        if (d.ConsentType is not (ConsentTypes.Implicit or ConsentTypes.Explicit))
        {
            return Metadata("consent_type", "consent_type must be 'implicit' (first-party, no consent page) or 'explicit' (third-party).");
        }

        if (d.DisplayName?.Length > 200)
        {
            return Metadata("client_name", "client_name is longer than 200 characters.");
        }

        // Shown to people on the consent page; the page's CSP allows https images only.
        foreach (var (field, value) in new[] { ("logo_uri", d.LogoUri), ("client_uri", d.ClientUri) })
        {
            if (!string.IsNullOrWhiteSpace(value) && WebUriProblem(value) is { } problem)
            {
                return Metadata(field, $"{field}: {problem}");
            }
        }

        return null;
    }

    private static ClientMetadataError? ValidateSecret(ClientDefinition d, bool secretMayBeSupplied)
    {
        var hasSecret = !string.IsNullOrEmpty(d.ClientSecret);
        if (!d.IsConfidential)
        {
            // RFC 6749 §2.1: a public client cannot keep a secret, so it is given none.
            return hasSecret ? Metadata("client_secret", "A public client cannot have a secret.") : null;
        }

        if (!secretMayBeSupplied)
        {
            return hasSecret ? Metadata("client_secret", "Client secrets are generated by the server and shown once; do not send one.") : null;
        }

        if (!hasSecret && d.Settings.TokenEndpointAuthMethod != ClientAuthenticationMethods.PrivateKeyJwt)
        {
            return Metadata("client_secret", $"A confidential client needs a secret of at least {MinimumSuppliedSecretLength} characters; give it through an environment variable.");
        }

        return d.ClientSecret!.Length < MinimumSuppliedSecretLength
            ? Metadata("client_secret", $"The secret is shorter than {MinimumSuppliedSecretLength} characters; use a long random value (for example 32 random bytes, base64url).")
            : null;
    }

    private static ClientMetadataError? ValidateGrantTypes(ClientDefinition d, IReadOnlyList<string> served)
    {
        var grants = d.EffectiveGrantTypes;
        if (grants.FirstOrDefault(g => !served.Contains(g)) is { } unknown)
        {
            return Metadata("grant_types", $"The grant type '{Shorten(unknown)}' is not supported; use {string.Join(", ", served)}.");
        }

        if (!d.IsConfidential && grants.Contains(GrantTypes.ClientCredentials))
        {
            // RFC 6749 §4.4: the client credentials grant is for confidential clients only.
            return Metadata("grant_types", "A public client cannot use the client_credentials grant.");
        }

        if (!d.IsConfidential && grants.Contains(GrantTypes.TokenExchange))
        {
            // RFC 8693 §5: exchanging another party's token is for clients that can prove who they are.
            return Metadata("grant_types", "A public client cannot use token exchange.");
        }

        if (grants.Contains(GrantTypes.RefreshToken) && !grants.Contains(GrantTypes.AuthorizationCode) && !grants.Contains(GrantTypes.DeviceCode))
        {
            // Refresh tokens are issued only by the code and device flows here (RFC 6749 §4.4.3: not with client credentials).
            return Metadata("grant_types", "refresh_token needs authorization_code or the device code grant: refresh tokens are issued only by those flows.");
        }

        if (d.CanIntrospect && !d.IsConfidential)
        {
            // RFC 7662 §2.1: the introspection caller must authenticate.
            return Metadata("can_introspect", "A public client cannot introspect: introspection requires client authentication.");
        }

        return null;
    }

    private static ClientMetadataError? ValidateRedirectUris(ClientDefinition d)
    {
        if (d.EffectiveGrantTypes.Contains(GrantTypes.AuthorizationCode) && d.RedirectUris.Count == 0)
        {
            // RFC 7591 §2: redirect-based flows require registered redirect URIs.
            return new ClientMetadataError(RegistrationErrors.InvalidRedirectUri, "redirect_uris is required for the authorization_code grant.", "redirect_uris");
        }

        foreach (var (field, uris) in new[] { ("redirect_uris", d.RedirectUris), ("post_logout_redirect_uris", d.PostLogoutRedirectUris) })
        {
            foreach (var uri in uris)
            {
                if (RedirectUriProblem(uri) is { } problem)
                {
                    return new ClientMetadataError(RegistrationErrors.InvalidRedirectUri, $"{field}: {problem}", field);
                }
            }
        }

        return null;
    }

    private static ClientMetadataError? ValidateScopesAndResources(ClientDefinition d, IReadOnlySet<string>? knownScopes)
    {
        foreach (var scope in d.Scopes)
        {
            if (!IsScopeToken(scope))
            {
                return Metadata("scopes", $"'{Shorten(scope)}' is not a valid scope name (RFC 6749 §3.3).");
            }

            if (knownScopes is not null && !knownScopes.Contains(scope))
            {
                return Metadata("scopes", $"The scope '{Shorten(scope)}' is not known; create it first.");
            }
        }

        if (d.Resources.FirstOrDefault(r => !IsResourceIndicator(r)) is { } badResource)
        {
            return Metadata("resources", $"The resource '{Shorten(badResource)}' is not an absolute URI without a fragment (RFC 8707 §2).");
        }

        return null;
    }

    /// <summary>Each per-client setting's own rules (<see cref="ClientSettings.Fields"/>), in the table's order.</summary>
    private static ClientMetadataError? ValidateSettings(ClientSettings settings)
    {
        foreach (var setting in ClientSettings.Fields)
        {
            if (setting.Validate(settings) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>An https URL (or http on a loopback address, for development) without a fragment.</summary>
    internal static string? WebUriProblem(string value)
    {
        if (value.Length > MaxUriLength || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || value.StartsWith('/'))
        {
            return $"'{Shorten(value)}' is not an absolute URL.";
        }

        if (value.Contains('#', StringComparison.Ordinal))
        {
            return $"'{Shorten(value)}' must not have a fragment.";
        }

        return uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)
            ? null
            : $"'{Shorten(value)}' must be an https URL.";
    }

    private static bool IsLoopbackLiteral(Uri uri) =>
        uri.HostNameType switch
        {
            UriHostNameType.IPv4 => uri.Host == "127.0.0.1",
            UriHostNameType.IPv6 => IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && address.Equals(IPAddress.IPv6Loopback),
            _ => false,
        };

    private static string? UserInfoProblem(Uri uri, string value) =>
        string.IsNullOrEmpty(uri.UserInfo) ? null : $"'{Shorten(value)}' must not contain user information.";

    private static ClientMetadataError Metadata(string field, string description) => new(RegistrationErrors.InvalidClientMetadata, description, field);

    private static string Shorten(string value) => value.Length > 80 ? value[..80] + "..." : value;

    [GeneratedRegex("^[A-Za-z0-9._~-]{1,100}$")]
    private static partial Regex ClientIdFormat();

    /// <summary>RFC 3986 §3.1 scheme syntax, with at least one period (a reverse domain name).</summary>
    [GeneratedRegex(@"^[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+$", RegexOptions.IgnoreCase)]
    private static partial Regex PrivateUseScheme();
}
