using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Primitives;

namespace IdentityServer.Accounts.Sessions;

/// <summary>
/// A new session key at every sign-in, also over an existing session (OWASP: renew the session id after authentication).
/// The cookie handler keeps the key it read from the request and writes it back (dotnet/aspnetcore#22135); when
/// <see cref="DatabaseTicketStore"/> has stored the sign-in under a fresh key instead, the cookie the handler wrote is
/// replaced by one carrying that key, protected and shaped exactly like the handler's own.
/// </summary>
public static class SessionKeyRotation
{
    // The claim the cookie handler puts the session key in (CookieAuthenticationHandler.SessionIdClaim, not public).
    private const string CookieSessionKeyClaim = "Microsoft.AspNetCore.Authentication.Cookies-SessionId";
    private const string NewKeyItem = "IdentityServer.Sessions.NewKey";
    private const string CookieOptionsItem = "IdentityServer.Sessions.CookieOptions";

    /// <summary>Called by the ticket store: the sign-in of this request lives under <paramref name="newKey"/>.</summary>
    internal static void Replace(HttpContext? context, string newKey)
    {
        if (context is not null)
        {
            context.Items[NewKeyItem] = newKey;
        }
    }

    /// <summary>The key this request stored its sign-in under, when it replaced the session it came with.</summary>
    internal static string? NewKey(HttpContext? context) => context?.Items[NewKeyItem] as string;

    /// <summary>Adds the rotation to the application cookie's events, keeping Identity's.</summary>
    public static void Attach(CookieAuthenticationOptions options)
    {
        var signingIn = options.Events.OnSigningIn;
        options.Events.OnSigningIn = async context =>
        {
            await signingIn(context);
            context.HttpContext.Items[CookieOptionsItem] = context.CookieOptions;
        };
        var signedIn = options.Events.OnSignedIn;
        options.Events.OnSignedIn = async context =>
        {
            await signedIn(context);
            ReissueCookie(context);
        };
    }

    private static void ReissueCookie(CookieSignedInContext context)
    {
        var http = context.HttpContext;
        if (http.Items[NewKeyItem] is not string newKey || http.Items[CookieOptionsItem] is not CookieOptions cookieOptions)
        {
            return;
        }

        var options = context.Options;
        var name = options.Cookie.Name!;
        var headers = http.Response.Headers;
        headers.SetCookie = new StringValues(headers.SetCookie.Where(c => c is not null && !c.StartsWith(name + "=", StringComparison.Ordinal)).ToArray());
        var identity = new ClaimsIdentity([new Claim(CookieSessionKeyClaim, newKey, ClaimValueTypes.String, options.ClaimsIssuer)], context.Scheme.Name);
        var value = options.TicketDataFormat.Protect(new AuthenticationTicket(new ClaimsPrincipal(identity), null, context.Scheme.Name));
        options.CookieManager.AppendResponseCookie(http, name, value, cookieOptions);
    }
}
