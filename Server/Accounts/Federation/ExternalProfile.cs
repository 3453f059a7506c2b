using System.Net.Mail;
using System.Security.Claims;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// What an upstream provider told us about the person, in one shape for all providers. It travels from the OAuth
/// handler to the callback page as claims of the short-lived external cookie.
/// </summary>
public sealed record ExternalProfile(string ProviderKey, string? Email, bool EmailVerified, string? Name, string? Handle, string? Picture)
{
    public const string EmailVerifiedClaim = "email_verified";
    public const string PictureClaim = "picture";
    public const string HandleClaim = "preferred_username";

    private const int MaxEmailLength = 256;
    private const int MaxNameLength = 256;
    private const int MaxPictureLength = 2048;

    /// <summary>
    /// Cleans what the provider sent: an email that is not an address, a name too long for our columns, or a picture
    /// that is not an absolute http(s) URL is dropped rather than stored. An unverified email stays unverified.
    /// </summary>
    public static ExternalProfile Create(string providerKey, string? email, bool emailVerified, string? name, string? handle, string? picture)
    {
        var cleanEmail = IsEmailAddress(email) ? email!.Trim() : null;
        return new ExternalProfile(
            providerKey,
            cleanEmail,
            cleanEmail is not null && emailVerified,
            Limit(name, MaxNameLength),
            Limit(handle, MaxNameLength),
            IsWebUrl(picture) && picture!.Length <= MaxPictureLength ? picture : null);
    }

    public void AddTo(ClaimsIdentity identity)
    {
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, ProviderKey));
        if (Email is not null)
        {
            identity.AddClaim(new Claim(ClaimTypes.Email, Email));
            identity.AddClaim(new Claim(EmailVerifiedClaim, EmailVerified ? "true" : "false"));
        }

        if (Name is not null)
        {
            identity.AddClaim(new Claim(ClaimTypes.Name, Name));
        }

        if (Handle is not null)
        {
            identity.AddClaim(new Claim(HandleClaim, Handle));
        }

        if (Picture is not null)
        {
            identity.AddClaim(new Claim(PictureClaim, Picture));
        }
    }

    public static ExternalProfile From(string providerKey, ClaimsPrincipal principal) => new(
        providerKey,
        principal.FindFirstValue(ClaimTypes.Email),
        principal.FindFirstValue(EmailVerifiedClaim) == "true",
        principal.FindFirstValue(ClaimTypes.Name),
        principal.FindFirstValue(HandleClaim),
        principal.FindFirstValue(PictureClaim));

    private static bool IsEmailAddress(string? value) =>
        !string.IsNullOrWhiteSpace(value) && value.Length <= MaxEmailLength
        && MailAddress.TryCreate(value.Trim(), out var address) && address.Address == value.Trim();

    private static bool IsWebUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    private static string? Limit(string? value, int length)
    {
        var trimmed = value?.Trim();
        return string.IsNullOrEmpty(trimmed) ? null : trimmed.Length <= length ? trimmed : trimmed[..length];
    }
}
