using System.Text.Json;
using IdentityServer.Data;
using Microsoft.AspNetCore.DataProtection;

namespace IdentityServer.Accounts;

/// <summary>
/// The proof, between the sign-in form and the set-password page, that a person whose admin forced a password reset
/// (<see cref="ApplicationUser.PasswordChangeRequiredAt"/>) has just typed their current password: their id and
/// security stamp, encrypted and authenticated with Data Protection, for ten minutes, in an HttpOnly cookie limited to
/// the set-password page. It is not a sign-in: no session exists until the new password is set.
/// </summary>
public static class PasswordChangeTicket
{
    public const string CookieName = "idsrv.set-password";
    public const string PagePath = "/account/set-password";
    private const string Purpose = "IdentityServer.Accounts.PasswordChangeTicket.v1";
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private sealed record Content(string UserId, string? SecurityStamp);

    public static void Issue(HttpContext context, ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        var protector = Protector(context);
        // The wall clock, not TimeProvider: Data Protection checks the expiry against the wall clock.
        var value = protector.Protect(JsonSerializer.Serialize(new Content(user.Id, user.SecurityStamp)), DateTimeOffset.UtcNow.Add(Lifetime));
        context.Response.Cookies.Append(CookieName, value, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = PagePath,
            MaxAge = Lifetime,
        });
    }

    /// <summary>The user id the cookie names, when it is ours, unexpired, and its security stamp still the account's (checked by the caller).</summary>
    public static (string UserId, string? SecurityStamp)? Read(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value) || value.Length > 4000)
        {
            return null;
        }

        try
        {
            var content = JsonSerializer.Deserialize<Content>(Protector(context).Unprotect(value, out _));
            return content is null ? null : (content.UserId, content.SecurityStamp);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static void Clear(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = PagePath });
    }

    private static ITimeLimitedDataProtector Protector(HttpContext context) =>
        context.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).ToTimeLimitedDataProtector();
}
