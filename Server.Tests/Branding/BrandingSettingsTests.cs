using IdentityServer.Hosting;
using Microsoft.Extensions.Configuration;

namespace IdentityServer.Tests.Branding;

/// <summary>
/// The Branding section is checked at start: a colour is #rgb or #rrggbb and nothing else (it is written into a
/// stylesheet), logos and support links are https (or, for the logo, a path of this site); anything else stops the
/// server with one line naming the setting. The text colour on the primary colour is computed, not configured.
/// </summary>
public sealed class BrandingSettingsTests
{
    [Theory]
    [InlineData("PrimaryColor", "red")]
    [InlineData("PrimaryColor", "#12345")]
    [InlineData("PrimaryColor", "#ffffff; } body { display: none")]
    [InlineData("PrimaryColor", "url(https://evil.example/x)")]
    [InlineData("PrimaryColor", "#gggggg")]
    [InlineData("LogoUrl", "http://cdn.example/logo.png")]
    [InlineData("LogoUrl", "//evil.example/logo.png")]
    [InlineData("LogoUrl", "javascript:alert(1)")]
    [InlineData("LogoUrl", "/../secrets/logo.png")]
    [InlineData("LogoUrl", "logo.png")]
    [InlineData("SupportUrl", "http://help.example")]
    [InlineData("SupportUrl", "javascript:alert(1)")]
    [InlineData("SupportEmail", "not an address")]
    [InlineData("SupportEmail", "a@b@example.com")]
    [InlineData("ProductName", "   ")]
    public void A_bad_value_stops_startup_with_one_line_naming_the_setting(string property, string value)
    {
        var error = Assert.Throws<StartupConfigurationException>(() => Read(("Branding:" + property, value)));

        Assert.Equal("Branding:" + property, error.Setting);
        Assert.StartsWith($"Configuration error in 'Branding:{property}': ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Good_values_are_kept_and_nothing_is_required()
    {
        var options = Read(("Branding:ProductName", " Acme ID "), ("Branding:LogoUrl", "/brand/acme.svg"), ("Branding:PrimaryColor", "#0A7"),
            ("Branding:SupportUrl", "https://help.acme.example/"), ("Branding:SupportEmail", "help@acme.example"));

        Assert.Equal("Acme ID", options.ProductName);
        Assert.Equal("/brand/acme.svg", options.LogoUrl);
        Assert.Equal("#0A7", options.PrimaryColor);
        Assert.True(options.HasSupport);
        Assert.Equal("https://cdn.acme.example/logo.png", Read(("Branding:LogoUrl", "https://cdn.acme.example/logo.png")).LogoUrl);

        var defaults = Read();
        Assert.Equal(BrandingOptions.DefaultProductName, defaults.ProductName);
        Assert.Null(defaults.LogoUrl);
        Assert.Null(defaults.PrimaryColor);
        Assert.False(defaults.HasSupport);
    }

    [Theory]
    [InlineData("#ffeb3b", "#000000")] // yellow: black text
    [InlineData("#ffffff", "#000000")]
    [InlineData("#1a237e", "#ffffff")] // dark blue: white text
    [InlineData("#000000", "#ffffff")]
    [InlineData("#2f5fd0", "#ffffff")] // the default accent
    [InlineData("#00c853", "#000000")] // bright green: white would be about 2.3:1
    public void The_text_on_the_primary_colour_is_the_one_with_more_contrast(string color, string expected)
    {
        Assert.Equal(expected, BrandingStylesheet.TextColorOn(color));
        var text = BrandingStylesheet.RelativeLuminance(expected);
        var background = BrandingStylesheet.RelativeLuminance(color);
        var ratio = (Math.Max(text, background) + 0.05) / (Math.Min(text, background) + 0.05);
        Assert.True(ratio >= 4.5, $"{expected} on {color}: {ratio:0.00}:1 is below WCAG AA");
    }

    [Fact]
    public void The_stylesheet_holds_only_the_normalized_colours()
    {
        var stylesheet = new BrandingStylesheet(Read(("Branding:PrimaryColor", "#FE3")));

        Assert.Equal(":root { --brand-primary: #ffee33; --brand-on-primary: #000000; }\n", stylesheet.Content);
        Assert.Equal(":root { }\n", new BrandingStylesheet(Read()).Content);
        Assert.NotEqual(stylesheet.Version, new BrandingStylesheet(Read()).Version);
    }

    private static BrandingOptions Read(params (string Key, string Value)[] settings) =>
        BrandingOptions.Read(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());
}
