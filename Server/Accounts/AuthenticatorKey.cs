using System.Text;

namespace IdentityServer.Accounts;

/// <summary>How the authenticator app's shared key is shown at enrolment: typed by hand, or opened as an otpauth:// link.</summary>
public static class AuthenticatorKey
{
    /// <summary>The Base32 key in groups of four, lower case, for typing.</summary>
    public static string Format(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var text = new StringBuilder();
        for (var i = 0; i < key.Length; i += 4)
        {
            text.Append(i == 0 ? "" : " ").Append(key.AsSpan(i, Math.Min(4, key.Length - i)));
        }

        return text.ToString().ToLowerInvariant();
    }

    /// <summary>
    /// The Key Uri Format authenticator apps read: otpauth://totp/{issuer}:{account}?secret=...&amp;issuer=...&amp;digits=6
    /// (Identity's authenticator provider checks RFC 6238 codes: HMAC-SHA1, 6 digits, 30-second steps).
    /// </summary>
    /// <summary>
    /// The otpauth:// link as a QR code for the app's camera: an SVG image as a data: URI (the page's content security
    /// policy allows data: images, and an image carries no script). Error correction M, 4 pixels per module.
    /// </summary>
    public static string QrCodeDataUri(string otpauthUri)
    {
        using var generator = new QRCoder.QRCodeGenerator();
        using var data = generator.CreateQrCode(otpauthUri, QRCoder.QRCodeGenerator.ECCLevel.M);
        var svg = new QRCoder.SvgQRCode(data).GetGraphic(4);
        return "data:image/svg+xml;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes(svg));
    }

    public static string Uri(string issuer, string account, string key) =>
        $"otpauth://totp/{System.Uri.EscapeDataString(issuer)}:{System.Uri.EscapeDataString(account)}?secret={key}&issuer={System.Uri.EscapeDataString(issuer)}&digits=6";
}
