using IdentityServer.Admin;
using IdentityServer.Clients;

namespace IdentityServer.Pages.Admin.Scopes;

/// <summary>The scope form: resources one per line.</summary>
public sealed class ScopeForm
{
    public string? Name { get; set; }
    public string? DisplayName { get; set; }
    public string? Description { get; set; }
    public string? Resources { get; set; }
    public string? Claims { get; set; }

    public ScopeDefinition ToDefinition() => new()
    {
        Name = Name?.Trim(),
        DisplayName = DisplayName,
        Description = Description,
        Resources = (Resources ?? "").Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
        Claims = (Claims ?? "").Split([' ', ',', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
    };

    public static ScopeForm From(ScopeDefinition scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return new ScopeForm
        {
            Name = scope.Name,
            DisplayName = scope.DisplayName,
            Description = scope.Description,
            Resources = string.Join('\n', scope.Resources),
            Claims = string.Join(' ', scope.Claims),
        };
    }
}
