using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace IdentityServer.Hosting;

/// <summary>
/// <c>/branding.css</c>: the configured colour as CSS custom properties, which site.css reads with a default
/// (<c>var(--brand-primary, ...)</c>). A stylesheet of its own because the page policy allows no inline style. The text
/// colour on the primary colour is computed here (black or white, whichever contrasts more by WCAG relative luminance),
/// never configured, so buttons stay readable whatever colour is chosen.
/// </summary>
public sealed class BrandingStylesheet
{
    public const string Path = "/branding.css";

    public BrandingStylesheet(BrandingOptions options)
    {
        var css = new StringBuilder(":root {");
        if (options.PrimaryColor is { } primary)
        {
            var color = Normalize(primary);
            css.Append(CultureInfo.InvariantCulture, $" --brand-primary: {color}; --brand-on-primary: {TextColorOn(color)};");
        }

        Content = css.Append(" }\n").ToString();
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(Content));
        Version = Convert.ToHexStringLower(hash.AsSpan(0, 8));
        ETag = new EntityTagHeaderValue($"\"{Version}\"");
    }

    /// <summary>The stylesheet's text.</summary>
    public string Content { get; }

    /// <summary>Changes with the content: pages link <c>/branding.css?v=...</c>, so a new colour is fetched at once.</summary>
    public string Version { get; }

    public EntityTagHeaderValue ETag { get; }

    /// <summary>The link pages use.</summary>
    public string Href => Path + "?v=" + Version;

    /// <summary>#000000 or #ffffff, whichever has the higher contrast ratio with <paramref name="color"/> (#rrggbb).</summary>
    public static string TextColorOn(string color)
    {
        var luminance = RelativeLuminance(color);
        var withBlack = (luminance + 0.05) / 0.05;
        var withWhite = 1.05 / (luminance + 0.05);
        return withBlack >= withWhite ? "#000000" : "#ffffff";
    }

    /// <summary>WCAG 2 relative luminance of an sRGB colour (#rrggbb).</summary>
    public static double RelativeLuminance(string color)
    {
        static double Channel(string hex)
        {
            var c = int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 255.0;
            return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }

        return (0.2126 * Channel(color[1..3])) + (0.7152 * Channel(color[3..5])) + (0.0722 * Channel(color[5..7]));
    }

    /// <summary>#abc → #aabbcc, lower case.</summary>
    public static string Normalize(string color) =>
        (color.Length == 4 ? $"#{color[1]}{color[1]}{color[2]}{color[2]}{color[3]}{color[3]}" : color).ToLowerInvariant();

    internal IResult Serve(HttpContext context)
    {
        var headers = context.Response.GetTypedHeaders();
        headers.ETag = ETag;
        headers.CacheControl = new CacheControlHeaderValue { Public = true, MaxAge = TimeSpan.FromDays(1) };
        var ifNoneMatch = context.Request.GetTypedHeaders().IfNoneMatch;
        if (ifNoneMatch.Any(tag => tag.Compare(ETag, useStrongComparison: false) || tag.Equals(EntityTagHeaderValue.Any)))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Text(Content, "text/css; charset=utf-8");
    }
}

public static class BrandingRegistration
{
    /// <summary>The <c>Branding</c> settings (checked at start) and the stylesheet made from them.</summary>
    public static WebApplicationBuilder AddBranding(this WebApplicationBuilder builder)
    {
        var options = BrandingOptions.Read(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<BrandingStylesheet>();
        return builder;
    }

    public static IEndpointRouteBuilder MapBranding(this IEndpointRouteBuilder app)
    {
        app.MapGet(BrandingStylesheet.Path, (HttpContext context, BrandingStylesheet stylesheet) => stylesheet.Serve(context))
            .ExcludeFromDescription();
        return app;
    }
}
