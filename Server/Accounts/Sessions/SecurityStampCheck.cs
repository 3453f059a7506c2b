using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Accounts.Sessions;

/// <summary>
/// Identity re-validates a sign-in's security stamp once per <see cref="SecurityStampValidatorOptions.ValidationInterval"/>,
/// but its cookie event builds the validator, with a SignInManager and a UserManager, on every signed-in request just to
/// find out that nothing is due: about 2 % of an authorization request's CPU. This asks the same question first, with
/// the validator's own clock and interval, and calls Identity's event only when it would act.
/// </summary>
public static class SecurityStampCheck
{
    /// <summary>Wraps the application cookie's principal validation (Identity's), keeping its behaviour.</summary>
    public static void Attach(CookieAuthenticationOptions options)
    {
        var validate = options.Events.OnValidatePrincipal;
        options.Events.OnValidatePrincipal = context => IsDue(context) ? validate(context) : Task.CompletedTask;
    }

    // The rule of SecurityStampValidator<TUser>.ValidateAsync: a ticket without an issue time, or one older than the interval.
    private static bool IsDue(CookieValidatePrincipalContext context)
    {
        if (context.Properties.IssuedUtc is not { } issued)
        {
            return true;
        }

        var options = context.HttpContext.RequestServices.GetRequiredService<IOptions<SecurityStampValidatorOptions>>().Value;
        var now = (options.TimeProvider ?? TimeProvider.System).GetUtcNow();
        return now - issued > options.ValidationInterval;
    }
}
