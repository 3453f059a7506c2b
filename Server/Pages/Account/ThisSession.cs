using System.Security.Claims;
using IdentityServer.Accounts;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Pages.Account;

/// <summary>Keeping the browser's own session across a change of the account's security stamp.</summary>
public static class ThisSession
{
    /// <summary>
    /// A new security stamp (password changed, login removed, email changed) would end this browser's session at the next
    /// stamp validation; re-issue its principal with the new stamp, keeping its session id and auth_time (the person did
    /// not sign in again). The session keeps its row (DatabaseTicketStore renews a ticket of the same sid).
    /// </summary>
    public static async Task KeepAsync(SignInManager<ApplicationUser> signIn, ApplicationUser user, ClaimsPrincipal current, bool secondFactorShown = false)
    {
        ArgumentNullException.ThrowIfNull(signIn);
        ArgumentNullException.ThrowIfNull(current);
        var keep = current.Claims.Where(c => c.Type is SignInSession.SessionIdClaim or SignInSession.AuthTimeClaim or ClaimTypes.AuthenticationMethod)
            .Select(c => new Claim(c.Type, c.Value))
            .ToList();
        var methods = SignInSession.MethodsOf(current);
        if (secondFactorShown && !methods.Contains(AuthenticationMethods.MultiFactor))
        {
            // The person just showed a one-time code in this session (enrolling it): the session now has two factors.
            methods = AuthenticationMethods.WithSecondFactor(methods[0]);
        }

        keep.AddRange(methods.Select(m => new Claim(SignInSession.MethodClaim, m)));
        await signIn.SignInWithClaimsAsync(user, isPersistent: false, keep);
    }
}
