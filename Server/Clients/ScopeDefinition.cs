using IdentityServer.Data;

namespace IdentityServer.Clients;

/// <summary>A scope admins define, the resources (access-token audiences) it opens and the custom user claims it releases.</summary>
public sealed class ScopeDefinition
{
    /// <summary>How the audit log names a scope.</summary>
    public static string AuditTarget(string name) => "scope:" + name;

    public string? Name { get; set; }
    public string? DisplayName { get; set; }
    public string? Description { get; set; }
    public IReadOnlyList<string> Resources { get; set; } = [];
    /// <summary>The custom user claim types (AspNetUserClaims) it releases in the ID token and userinfo.</summary>
    public IReadOnlyList<string> Claims { get; set; } = [];

    /// <summary>Why this scope cannot be stored, or null. Built-in names (openid, profile, email, offline_access, admin) are reserved.</summary>
    public ClientMetadataError? Validate()
    {
        if (!ClientMetadataValidator.IsScopeToken(Name))
        {
            return Invalid("name", "The scope name must be 1 to 200 printable ASCII characters without spaces, '\"' or '\\' (RFC 6749 §3.3).");
        }

        if (ScopeCatalog.BuiltInScopes.ContainsKey(Name!))
        {
            return Invalid("name", $"'{Name}' is a built-in scope and cannot be redefined.");
        }

        if (DisplayName?.Length > 200 || Description?.Length > 1000)
        {
            return Invalid("display_name", "display_name is limited to 200 characters and description to 1000.");
        }

        if (Resources.FirstOrDefault(r => !ClientMetadataValidator.IsResourceIndicator(r)) is { } bad)
        {
            return Invalid("resources", $"The resource '{bad}' is not an absolute URI without a fragment (RFC 8707 §2).");
        }

        if (Claims.Count > 50)
        {
            return Invalid("claims", "A scope releases at most 50 claim types.");
        }

        return Claims.Select(UserClaimTypes.Problem).FirstOrDefault(p => p is not null) is { } problem ? Invalid("claims", problem) : null;
    }

    public void ApplyTo(OAuthScope row)
    {
        ArgumentNullException.ThrowIfNull(row);
        row.DisplayName = string.IsNullOrWhiteSpace(DisplayName) ? null : DisplayName.Trim();
        row.Description = string.IsNullOrWhiteSpace(Description) ? null : Description.Trim();
        row.Resources = ClientDefinition.Json(Resources.Distinct(StringComparer.Ordinal));
        row.Claims = ClientDefinition.Json(Claims.Distinct(StringComparer.Ordinal));
    }

    public static ScopeDefinition From(OAuthScope row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new ScopeDefinition
        {
            Name = row.Name,
            DisplayName = row.DisplayName,
            Description = row.Description,
            Resources = ClientDefinition.ReadArray(row.Resources),
            Claims = ClientDefinition.ReadArray(row.Claims),
        };
    }

    private static ClientMetadataError Invalid(string field, string description) => new(RegistrationErrors.InvalidRequest, description, field);
}
