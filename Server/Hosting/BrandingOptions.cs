using System.Text.RegularExpressions;

namespace IdentityServer.Hosting;

/// <summary>
/// The product's name, logo, colour and support contacts (section <c>Branding</c>), shown by the pages and the account
/// email. Checked once at start: a colour is <c>#rgb</c> or <c>#rrggbb</c> and nothing else (it is written into a
/// stylesheet, so no other text may reach it), a logo is a path of this site or an https URL.
/// </summary>
public sealed partial class BrandingOptions
{
    public const string Section = "Branding";
    public const string DefaultProductName = "Identity";

    /// <summary>The name in page titles, the page header, the admin header and the email signature.</summary>
    public string ProductName { get; set; } = DefaultProductName;

    /// <summary>A path under wwwroot (<c>/logo.svg</c>) or an absolute https URL; none by default.</summary>
    public string? LogoUrl { get; set; }

    /// <summary>The buttons' colour (<c>#rgb</c> or <c>#rrggbb</c>); the text on it is black or white, whichever contrasts more.</summary>
    public string? PrimaryColor { get; set; }

    /// <summary>An https page where people get help, linked in the footer.</summary>
    public string? SupportUrl { get; set; }

    /// <summary>An address where people get help, linked in the footer.</summary>
    public string? SupportEmail { get; set; }

    public bool HasSupport => SupportUrl is not null || SupportEmail is not null;

    /// <summary>Reads and checks the section; a bad value stops startup with one line naming the setting.</summary>
    public static BrandingOptions Read(IConfiguration configuration)
    {
        var options = configuration.BindSetting<BrandingOptions>(Section);
        options.ProductName = options.ProductName?.Trim() ?? "";
        if (options.ProductName.Length is 0 or > 100 || options.ProductName.Any(char.IsControl))
        {
            throw Error(nameof(ProductName), "must be 1 to 100 characters, without control characters.");
        }

        options.LogoUrl = Blank(options.LogoUrl);
        if (options.LogoUrl is { } logo && !IsSitePath(logo) && !IsHttpsUrl(logo))
        {
            throw Error(nameof(LogoUrl), $"'{logo}' is neither a path under wwwroot (/logo.svg) nor an absolute https URL.");
        }

        options.PrimaryColor = Blank(options.PrimaryColor);
        if (options.PrimaryColor is { } color && !HexColor().IsMatch(color))
        {
            throw Error(nameof(PrimaryColor), $"'{color}' is not a colour of the form #rgb or #rrggbb.");
        }

        options.SupportUrl = Blank(options.SupportUrl);
        if (options.SupportUrl is { } support && !IsHttpsUrl(support))
        {
            throw Error(nameof(SupportUrl), $"'{support}' is not an absolute https URL.");
        }

        options.SupportEmail = Blank(options.SupportEmail);
        if (options.SupportEmail is { } email && !IsPlainAddress(email))
        {
            throw Error(nameof(SupportEmail), $"'{email}' is not an email address (name@example.com).");
        }

        return options;
    }

    /// <summary>An absolute https URL without user information: what a page may show as a link or an image.</summary>
    public static bool IsHttpsUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
        && string.IsNullOrEmpty(uri.UserInfo) && !value.Any(char.IsControl);

    /// <summary>"/logo.svg": a path of this site, not "//host" (another site) nor one leaving the web root.</summary>
    private static bool IsSitePath(string value) =>
        value.Length > 1 && value[0] == '/' && value[1] != '/' && !value.Contains('\\', StringComparison.Ordinal)
        && !value.Split('/').Contains("..") && !value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '?' or '#' or '"' or '<' or '>')
        && Uri.TryCreate(value, UriKind.Relative, out _);

    private static bool IsPlainAddress(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return value.Length <= 254 && at > 0 && at == value.LastIndexOf('@') && at < value.Length - 1
            && value[(at + 1)..].Contains('.', StringComparison.Ordinal)
            && !value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '<' or '>' or '"' or ',' or ';' or ':' or '?' or '&' or '/' or '\\');
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static StartupConfigurationException Error(string property, string problem) => new($"{Section}:{property}", problem);

    [GeneratedRegex("^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", RegexOptions.CultureInvariant)]
    private static partial Regex HexColor();
}
