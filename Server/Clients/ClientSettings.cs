using System.Globalization;
using System.Text.Json;

namespace IdentityServer.Clients;

/// <summary>
/// Per-client settings (Applications.Settings JSON). Null means "use the server default". Each property has one row in
/// <see cref="Fields"/>, and every edge reads that table: the admin API's JSON, the admin form, the validator. Declared
/// clients bind configuration straight onto this class (<c>Clients:web:AccessTokenLifetime</c>), so a property's name is
/// its configuration key. Adding a setting is a property here, its row below, and the code that obeys it.
/// </summary>
public sealed class ClientSettings
{
    public string? Resource { get; set; }
    public TimeSpan? AuthorizationCodeLifetime { get; set; }
    public TimeSpan? AccessTokenLifetime { get; set; }
    public TimeSpan? IdentityTokenLifetime { get; set; }
    public TimeSpan? RefreshTokenSlidingLifetime { get; set; }
    public TimeSpan? RefreshTokenAbsoluteLifetime { get; set; }
    /// <summary>Where logout tokens are POSTed when a session of this client's user ends (Back-Channel Logout 1.0 §2.2).</summary>
    public string? BackchannelLogoutUri { get; set; }
    /// <summary>Whether the client needs <c>sid</c> in logout tokens (§2.2 backchannel_logout_session_required).</summary>
    public bool? BackchannelLogoutSessionRequired { get; set; }
    /// <summary>Whether /authorize accepts this client's requests only through PAR (RFC 9126 §5 require_pushed_authorization_requests).</summary>
    public bool? RequirePushedAuthorizationRequests { get; set; }
    /// <summary>
    /// How the client authenticates (RFC 7591 §2 token_endpoint_auth_method): null, client_secret_basic or
    /// client_secret_post mean its secret (either way), private_key_jwt a signed assertion (RFC 7523) and never a secret.
    /// </summary>
    public string? TokenEndpointAuthMethod { get; set; }
    /// <summary>The client's public keys for private_key_jwt, a JWK Set (RFC 7517 §5) as JSON text (RFC 7591 §2 jwks).</summary>
    public string? Jwks { get; set; }
    /// <summary>Where the client publishes its JWK Set (RFC 7591 §2 jwks_uri); fetched through the outbound client.</summary>
    public string? JwksUri { get; set; }
    /// <summary>Whether every token request of the client must carry a DPoP proof (RFC 9449 §5.2 dpop_bound_access_tokens).</summary>
    public bool? DpopBoundAccessTokens { get; set; }
    /// <summary>Token exchange (RFC 8693): the audiences (resource identifiers) this client may ask for, space-separated.</summary>
    public string? TokenExchangeAudiences { get; set; }
    /// <summary>Token exchange without an actor token: a token for the subject alone (impersonation, RFC 8693 §1.1).</summary>
    public bool? TokenExchangeImpersonation { get; set; }
    /// <summary>Token exchange with an actor token: a token for the subject naming this client as actor (delegation, RFC 8693 §1.1, §4.1).</summary>
    public bool? TokenExchangeDelegation { get; set; }

    /// <summary>The settings, in the order the validator checks them and the admin API and form show them.</summary>
    public static IReadOnlyList<ClientSetting> Fields { get; } =
    [
        ClientSetting.Uri(nameof(Resource), "Resource identifier it serves (empty: its client ID)", s => s.Resource, (s, v) => s.Resource = v,
            v => ClientMetadataValidator.IsResourceIndicator(v) ? null
                : "resource (the identifier this client serves) must be an absolute URI without a fragment (RFC 8707 §2)."),
        // RFC 6749 §4.1.2 recommends at most 10 minutes for codes; the other caps only catch typing mistakes.
        ClientSetting.Lifetime(nameof(AuthorizationCodeLifetime), "Authorization code", TimeSpan.FromMinutes(10),
            s => s.AuthorizationCodeLifetime, (s, v) => s.AuthorizationCodeLifetime = v),
        ClientSetting.Lifetime(nameof(AccessTokenLifetime), "Access token", TimeSpan.FromDays(1), s => s.AccessTokenLifetime, (s, v) => s.AccessTokenLifetime = v),
        ClientSetting.Lifetime(nameof(IdentityTokenLifetime), "Identity token", TimeSpan.FromDays(1), s => s.IdentityTokenLifetime, (s, v) => s.IdentityTokenLifetime = v),
        ClientSetting.Lifetime(nameof(RefreshTokenSlidingLifetime), "Refresh token (sliding)", TimeSpan.FromDays(365),
            s => s.RefreshTokenSlidingLifetime, (s, v) => s.RefreshTokenSlidingLifetime = v),
        ClientSetting.Lifetime(nameof(RefreshTokenAbsoluteLifetime), "Refresh token (absolute)", TimeSpan.FromDays(365),
            s => s.RefreshTokenAbsoluteLifetime, (s, v) => s.RefreshTokenAbsoluteLifetime = v,
            // Checked here, once every lifetime before it is known to be in range.
            also: s => s.RefreshTokenSlidingLifetime > s.RefreshTokenAbsoluteLifetime
                ? new ClientMetadataError(RegistrationErrors.InvalidClientMetadata,
                    "refresh_token_sliding_lifetime cannot be longer than refresh_token_absolute_lifetime.", "refresh_token_sliding_lifetime")
                : null),
        // Back-Channel Logout 1.0 §2.2: an absolute URI, no fragment; it receives logout tokens, so https (or loopback).
        ClientSetting.Uri(nameof(BackchannelLogoutUri), "Back-channel logout URI", s => s.BackchannelLogoutUri, (s, v) => s.BackchannelLogoutUri = v,
            v => ClientMetadataValidator.WebUriProblem(v) is { } problem ? $"backchannel_logout_uri: {problem}" : null),
        ClientSetting.Flag(nameof(BackchannelLogoutSessionRequired), label: null,
            s => s.BackchannelLogoutSessionRequired, (s, v) => s.BackchannelLogoutSessionRequired = v),
        ClientSetting.Flag(nameof(RequirePushedAuthorizationRequests), "Require pushed authorization requests (PAR)",
            s => s.RequirePushedAuthorizationRequests, (s, v) => s.RequirePushedAuthorizationRequests = v),
        ClientSetting.Choice(nameof(TokenEndpointAuthMethod), "Client authentication (empty: its secret)", ClientAuthenticationMethods.Registrable,
            s => s.TokenEndpointAuthMethod, (s, v) => s.TokenEndpointAuthMethod = v),
        // RFC 7591 §2: jwks_uri is preferred; the keys are fetched, so the same rules as any URL the server calls.
        ClientSetting.Uri(nameof(JwksUri), "JWKS URI (keys for private_key_jwt)", s => s.JwksUri, (s, v) => s.JwksUri = v,
            v => ClientMetadataValidator.WebUriProblem(v) is { } problem ? $"jwks_uri: {problem}" : null),
        ClientSetting.Json(nameof(Jwks), "JWKS (public keys for private_key_jwt, JSON)", s => s.Jwks, (s, v) => s.Jwks = v,
            v => ClientKeySet.Problem(v) is { } problem ? $"jwks: {problem}" : null),
        ClientSetting.Flag(nameof(DpopBoundAccessTokens), "Require DPoP-bound tokens (RFC 9449)",
            s => s.DpopBoundAccessTokens, (s, v) => s.DpopBoundAccessTokens = v),
        // RFC 8693 §2.1: audience and resource name the target services; each must be listed here (exact match).
        ClientSetting.UriList(nameof(TokenExchangeAudiences), "Token exchange: audiences it may request (space-separated)",
            s => s.TokenExchangeAudiences, (s, v) => s.TokenExchangeAudiences = v,
            v => v.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(a => !ClientMetadataValidator.IsResourceIndicator(a)) is { } bad
                ? $"token_exchange_audiences: '{(bad.Length > 50 ? bad[..50] + "..." : bad)}' is not an absolute URI without a fragment (RFC 8707 §2)."
                : null),
        ClientSetting.Flag(nameof(TokenExchangeImpersonation), "Token exchange: may impersonate (no actor token)",
            s => s.TokenExchangeImpersonation, (s, v) => s.TokenExchangeImpersonation = v),
        ClientSetting.Flag(nameof(TokenExchangeDelegation), "Token exchange: may act for a subject (delegation, act claim)",
            s => s.TokenExchangeDelegation, (s, v) => s.TokenExchangeDelegation = v),
    ];

    /// <summary>The setting whose <see cref="ClientSetting.Name"/> (JSON, validator field) or <see cref="ClientSetting.Key"/> (property, configuration, form) this is.</summary>
    public static ClientSetting? Find(string nameOrKey) =>
        Fields.FirstOrDefault(f => f.Name == nameOrKey || f.Key == nameOrKey);

    /// <summary>A copy as it is stored: text settings trimmed, empty ones null.</summary>
    public ClientSettings Normalized()
    {
        var copy = new ClientSettings();
        foreach (var field in Fields)
        {
            field.CopyNormalized(this, copy);
        }

        return copy;
    }
}

/// <summary>
/// One per-client setting: how it is named at each edge and how it is converted there. <see cref="Key"/> is the
/// <see cref="ClientSettings"/> property (and so the configuration key) and the admin form's field; <see cref="Name"/>,
/// its snake_case form, is the admin API's JSON property and the field the validator's errors name.
/// </summary>
public abstract class ClientSetting
{
    private protected ClientSetting(string key, string? label)
    {
        Key = key;
        Name = JsonNamingPolicy.SnakeCaseLower.ConvertName(key);
        Label = label;
    }

    /// <summary>The <see cref="ClientSettings"/> property, the configuration key under a declared client, the admin form's field.</summary>
    public string Key { get; }

    /// <summary>The admin API's JSON property and the metadata field of validation errors, e.g. <c>access_token_lifetime</c>.</summary>
    public string Name { get; }

    /// <summary>The admin form's label; null keeps the setting off the form.</summary>
    public string? Label { get; }

    /// <summary>The admin form's input type: <c>number</c> (seconds), <c>url</c> or <c>checkbox</c>.</summary>
    public abstract string FormInput { get; }

    /// <summary>The type of the admin API's JSON property.</summary>
    public abstract Type JsonType { get; }

    /// <summary>The value itself (a TimeSpan, a string, a bool), or null.</summary>
    public abstract object? Value(ClientSettings settings);

    public abstract object? ToJson(ClientSettings settings);

    public abstract void FromJson(ClientSettings settings, object? value);

    /// <summary>The value as the admin form shows it.</summary>
    public abstract string? ToText(ClientSettings settings);

    /// <summary>Reads the admin form's text; what does not parse is null, the server default.</summary>
    public abstract void FromText(ClientSettings settings, string? text);

    /// <summary>The first rule this setting breaks, or null.</summary>
    public abstract ClientMetadataError? Validate(ClientSettings settings);

    internal abstract void CopyNormalized(ClientSettings from, ClientSettings to);

    /// <summary>A lifetime: seconds in the admin API and form, a TimeSpan in configuration, between 1 second and <paramref name="max"/>.</summary>
    public static ClientSetting Lifetime(string key, string? label, TimeSpan max, Func<ClientSettings, TimeSpan?> get, Action<ClientSettings, TimeSpan?> set,
        Func<ClientSettings, ClientMetadataError?>? also = null) => new LifetimeSetting(key, label, max, get, set, also);

    /// <summary>A URI; <paramref name="problem"/> says what is wrong with a non-empty value, or null.</summary>
    public static ClientSetting Uri(string key, string? label, Func<ClientSettings, string?> get, Action<ClientSettings, string?> set, Func<string, string?> problem) =>
        new UriSetting(key, label, get, set, problem, "url");

    /// <summary>Several URIs, space-separated (a text field on the form); <paramref name="problem"/> checks the whole value.</summary>
    public static ClientSetting UriList(string key, string? label, Func<ClientSettings, string?> get, Action<ClientSettings, string?> set, Func<string, string?> problem) =>
        new UriSetting(key, label, get, set, problem, "text");

    /// <summary>A yes/no setting; a checkbox on the form (unchecked is the server default).</summary>
    public static ClientSetting Flag(string key, string? label, Func<ClientSettings, bool?> get, Action<ClientSettings, bool?> set) =>
        new FlagSetting(key, label, get, set);

    /// <summary>One of a fixed list of values (a select on the form); anything else is refused.</summary>
    public static ClientSetting Choice(string key, string? label, IReadOnlyList<string> choices, Func<ClientSettings, string?> get, Action<ClientSettings, string?> set) =>
        new ChoiceSetting(key, label, choices, get, set);

    /// <summary>A JSON document: a JSON value in the admin API, JSON text in configuration, the form and the stored settings.</summary>
    public static ClientSetting Json(string key, string? label, Func<ClientSettings, string?> get, Action<ClientSettings, string?> set, Func<string, string?> problem) =>
        new JsonSetting(key, label, get, set, problem);

    /// <summary>The values a choice allows (empty for any other kind of setting).</summary>
    public virtual IReadOnlyList<string> Choices => [];

    private protected ClientMetadataError Error(string description) => new(RegistrationErrors.InvalidClientMetadata, description, Name);

    private sealed class ChoiceSetting(string key, string? label, IReadOnlyList<string> choices, Func<ClientSettings, string?> get, Action<ClientSettings, string?> set)
        : ClientSetting(key, label)
    {
        public override string FormInput => "select";

        public override IReadOnlyList<string> Choices => choices;

        public override Type JsonType => typeof(string);

        public override object? Value(ClientSettings settings) => get(settings);

        public override object? ToJson(ClientSettings settings) => get(settings);

        public override void FromJson(ClientSettings settings, object? value) => set(settings, (string?)value);

        public override string? ToText(ClientSettings settings) => get(settings);

        public override void FromText(ClientSettings settings, string? text) => set(settings, string.IsNullOrEmpty(text) ? null : text);

        public override ClientMetadataError? Validate(ClientSettings settings) =>
            get(settings) is { } value && !choices.Contains(value, StringComparer.Ordinal)
                ? Error($"{Name} must be one of {string.Join(", ", choices)}.")
                : null;

        internal override void CopyNormalized(ClientSettings from, ClientSettings to) =>
            set(to, get(from) is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null);
    }

    private sealed class JsonSetting(string key, string? label, Func<ClientSettings, string?> get, Action<ClientSettings, string?> set, Func<string, string?> problem)
        : ClientSetting(key, label)
    {
        public override string FormInput => "textarea";

        public override Type JsonType => typeof(JsonElement?);

        public override object? Value(ClientSettings settings) => get(settings);

        public override object? ToJson(ClientSettings settings)
        {
            if (get(settings) is not { } text)
            {
                return null;
            }

            try
            {
                using var document = JsonDocument.Parse(text);
                return document.RootElement.Clone();
            }
            catch (JsonException)
            {
                return null; // never stored: the validator refuses text that is not JSON
            }
        }

        public override void FromJson(ClientSettings settings, object? value) => set(settings, value switch
        {
            JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
            JsonElement { ValueKind: JsonValueKind.String } element => element.GetString(),
            JsonElement element => element.GetRawText(),
            _ => null,
        });

        public override string? ToText(ClientSettings settings) => get(settings);

        public override void FromText(ClientSettings settings, string? text) => set(settings, string.IsNullOrWhiteSpace(text) ? null : text);

        public override ClientMetadataError? Validate(ClientSettings settings) =>
            get(settings) is { } value && !string.IsNullOrWhiteSpace(value) && problem(value) is { } description ? Error(description) : null;

        internal override void CopyNormalized(ClientSettings from, ClientSettings to) =>
            set(to, get(from) is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null);
    }

    private sealed class LifetimeSetting(string key, string? label, TimeSpan max, Func<ClientSettings, TimeSpan?> get, Action<ClientSettings, TimeSpan?> set,
        Func<ClientSettings, ClientMetadataError?>? also) : ClientSetting(key, label)
    {
        public override string FormInput => "number";

        public override Type JsonType => typeof(long?);

        public override object? Value(ClientSettings settings) => get(settings);

        public override object? ToJson(ClientSettings settings) => get(settings) is { } t ? (long)t.TotalSeconds : null;

        public override void FromJson(ClientSettings settings, object? value) => set(settings, Seconds((long?)value));

        public override string? ToText(ClientSettings settings) => ((long?)ToJson(settings))?.ToString(CultureInfo.InvariantCulture);

        public override void FromText(ClientSettings settings, string? text) =>
            set(settings, long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) ? Seconds(seconds) : null);

        public override ClientMetadataError? Validate(ClientSettings settings) =>
            get(settings) is { } lifetime && (lifetime < TimeSpan.FromSeconds(1) || lifetime > max)
                ? Error($"{Name} must be between 1 second and {max.TotalSeconds:0} seconds.")
                : also?.Invoke(settings);

        internal override void CopyNormalized(ClientSettings from, ClientSettings to) => set(to, get(from));

        // Out-of-range values stay out of range (the validator refuses them) without overflowing TimeSpan.
        private static TimeSpan? Seconds(long? value) => value is { } s ? TimeSpan.FromSeconds(Math.Clamp(s, -1, (long)TimeSpan.MaxValue.TotalSeconds - 1)) : null;
    }

    private sealed class UriSetting(string key, string? label, Func<ClientSettings, string?> get, Action<ClientSettings, string?> set, Func<string, string?> problem,
        string formInput) : ClientSetting(key, label)
    {
        public override string FormInput => formInput;

        public override Type JsonType => typeof(string);

        public override object? Value(ClientSettings settings) => get(settings);

        public override object? ToJson(ClientSettings settings) => get(settings);

        public override void FromJson(ClientSettings settings, object? value) => set(settings, (string?)value);

        public override string? ToText(ClientSettings settings) => get(settings);

        public override void FromText(ClientSettings settings, string? text) => set(settings, string.IsNullOrEmpty(text) ? null : text);

        public override ClientMetadataError? Validate(ClientSettings settings) =>
            get(settings) is { } value && !string.IsNullOrWhiteSpace(value) && problem(value) is { } description ? Error(description) : null;

        internal override void CopyNormalized(ClientSettings from, ClientSettings to) =>
            set(to, get(from) is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null);
    }

    private sealed class FlagSetting(string key, string? label, Func<ClientSettings, bool?> get, Action<ClientSettings, bool?> set) : ClientSetting(key, label)
    {
        public override string FormInput => "checkbox";

        public override Type JsonType => typeof(bool?);

        public override object? Value(ClientSettings settings) => get(settings);

        public override object? ToJson(ClientSettings settings) => get(settings);

        public override void FromJson(ClientSettings settings, object? value) => set(settings, (bool?)value);

        public override string? ToText(ClientSettings settings) => get(settings) is true ? "true" : null;

        public override void FromText(ClientSettings settings, string? text) => set(settings, bool.TryParse(text, out var value) && value ? true : null);

        public override ClientMetadataError? Validate(ClientSettings settings) => null;

        internal override void CopyNormalized(ClientSettings from, ClientSettings to) => set(to, get(from));
    }
}
