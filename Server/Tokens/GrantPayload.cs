using System.Text.Json;
using System.Text.Json.Serialization;

namespace IdentityServer.Tokens;

/// <summary>
/// What a code or refresh token stands for (Tokens.Payload JSON). A code also carries the request it answers
/// (redirect_uri, PKCE challenge, nonce). The user's claims are captured at sign-in so the token endpoint needs no user lookup.
/// </summary>
public sealed class GrantPayload
{
    public string[] Scopes { get; set; } = [];
    public string[] Resources { get; set; } = [];
    public long? AuthTime { get; set; }
    public string? SessionId { get; set; }

    /// <summary>How the person signed in (RFC 8176 amr values) and the level that reached (OpenID Connect Core §2 acr).</summary>
    public string[]? Amr { get; set; }

    public string? Acr { get; set; }

    public UserClaimSet? Claims { get; set; }

    // Authorization code only.
    public string? RedirectUri { get; set; }
    public string? CodeChallenge { get; set; }
    public string? Nonce { get; set; }

    public string Serialize() => JsonSerializer.Serialize(this, TokenJsonContext.Default.GrantPayload);

    public static GrantPayload Deserialize(string? json) =>
        string.IsNullOrEmpty(json) ? new GrantPayload() : JsonSerializer.Deserialize(json, TokenJsonContext.Default.GrantPayload) ?? new GrantPayload();
}

/// <summary>The standard claims of a user that scopes release (OpenID Connect Core §5.4).</summary>
public sealed class UserClaimSet
{
    public string? Name { get; set; }
    public string? PreferredUsername { get; set; }
    public string? Picture { get; set; }
    public long? UpdatedAt { get; set; }
    public string? Email { get; set; }
    public bool? EmailVerified { get; set; }

    public void WriteTo(Utf8JsonWriter json)
    {
        WriteIfSet(json, "name", Name);
        WriteIfSet(json, "preferred_username", PreferredUsername);
        WriteIfSet(json, "picture", Picture);
        if (UpdatedAt is { } updatedAt)
        {
            json.WriteNumber("updated_at", updatedAt);
        }

        WriteIfSet(json, "email", Email);
        if (EmailVerified is { } verified)
        {
            json.WriteBoolean("email_verified", verified);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter json, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json.WriteString(name, value);
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GrantPayload))]
internal sealed partial class TokenJsonContext : JsonSerializerContext;
