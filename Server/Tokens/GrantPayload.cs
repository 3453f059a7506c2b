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

    /// <summary>
    /// RFC 9449: on a code, the authorization request's dpop_jkt (§10), which the token request's proof key must match; on
    /// a refresh token of a public client, the key it is bound to (§5), which every refresh must prove.
    /// </summary>
    public string? DpopJkt { get; set; }

    public string Serialize() => JsonSerializer.Serialize(this, TokenJsonContext.Default.GrantPayload);

    public static GrantPayload Deserialize(string? json) =>
        string.IsNullOrEmpty(json) ? new GrantPayload() : JsonSerializer.Deserialize(json, TokenJsonContext.Default.GrantPayload) ?? new GrantPayload();
}

/// <summary>
/// The claims of a user that scopes release: the standard ones (OpenID Connect Core §5.4), the roles (the <c>roles</c>
/// scope) and custom claims (each with the scopes that released it, so a narrowed refresh can drop it).
/// </summary>
public sealed class UserClaimSet
{
    public string? Name { get; set; }
    public string? PreferredUsername { get; set; }
    public string? Picture { get; set; }
    public long? UpdatedAt { get; set; }
    public string? Email { get; set; }
    public bool? EmailVerified { get; set; }
    public string[]? Roles { get; set; }
    public List<ReleasedClaim>? Custom { get; set; }

    public void WriteTo(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
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

        if (Roles is not null)
        {
            json.WriteStartArray(Clients.UserClaimTypes.Roles);
            foreach (var role in Roles)
            {
                json.WriteStringValue(role);
            }

            json.WriteEndArray();
        }

        // Checked again here, whatever the database holds: a custom claim never takes a protocol claim's name.
        foreach (var claim in Custom ?? [])
        {
            if (Clients.UserClaimTypes.Problem(claim.Type) is not null || claim.Values.Length == 0)
            {
                continue;
            }

            if (claim.Values.Length == 1)
            {
                json.WriteString(claim.Type, claim.Values[0]);
                continue;
            }

            json.WriteStartArray(claim.Type);
            foreach (var value in claim.Values)
            {
                json.WriteStringValue(value);
            }

            json.WriteEndArray();
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

/// <summary>A custom user claim as released: its values (one is written as a string, several as an array) and the granted scopes that release it.</summary>
public sealed class ReleasedClaim
{
    public string Type { get; set; } = "";
    public string[] Values { get; set; } = [];
    public string[] Scopes { get; set; } = [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GrantPayload))]
internal sealed partial class TokenJsonContext : JsonSerializerContext;
