using System.Security.Claims;
using IdentityServer.Accounts.Email;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Accounts;

/// <summary>A sign-in waiting for its second factor: whose, and how the first factor was shown.</summary>
public sealed record PendingTwoFactor(ApplicationUser User, string FirstMethod, string? Provider);

public enum SecondFactor
{
    /// <summary>A code of the authenticator app (RFC 6238 TOTP, Identity's authenticator token provider).</summary>
    AuthenticatorCode,

    /// <summary>One of the single-use recovery codes shown at enrolment.</summary>
    RecoveryCode,
}

/// <summary>
/// The second step of a sign-in, on Identity's own mechanisms. After the first factor (a password, or a provider) of an
/// account with two-factor authentication on, no session is created yet: Identity's short-lived two-factor cookie
/// (<see cref="IdentityConstants.TwoFactorUserIdScheme"/>, data-protected, five minutes) carries the user id and the first
/// method. A code then either creates the session (amr: first method, otp, mfa) or counts as a failed attempt toward
/// the account's lockout, as a wrong password does.
/// </summary>
public sealed class TwoFactorSignIn(SignInManager<ApplicationUser> signIn, AccountEmails emails, AuditLog audit, ServerMetrics metrics,
    TimeProvider time, ILogger<TwoFactorSignIn> logger)
{
    /// <summary>Whether a sign-in of <paramref name="user"/> needs a second factor.</summary>
    public Task<bool> IsRequiredAsync(ApplicationUser user) => signIn.UserManager.GetTwoFactorEnabledAsync(user);

    /// <summary>Whether the account <paramref name="userId"/> (if it exists) has a second factor.</summary>
    public async Task<bool> IsRequiredAsync(string userId) =>
        await signIn.UserManager.FindByIdAsync(userId) is { } user && await IsRequiredAsync(user);

    /// <summary>The first factor checked out: remember whose sign-in this is in the two-factor cookie (no session yet).</summary>
    public async Task BeginAsync(HttpContext http, ApplicationUser user, string firstMethod, string? provider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(user);
        // ClaimTypes.Name holds the user id, as SignInManager.GetTwoFactorAuthenticationUserAsync expects.
        var identity = new ClaimsIdentity(IdentityConstants.TwoFactorUserIdScheme);
        identity.AddClaim(new Claim(ClaimTypes.Name, user.Id));
        identity.AddClaim(new Claim(SignInSession.MethodClaim, firstMethod));
        if (provider is not null)
        {
            identity.AddClaim(new Claim(ClaimTypes.AuthenticationMethod, provider));
        }

        await http.SignInAsync(IdentityConstants.TwoFactorUserIdScheme, new ClaimsPrincipal(identity));
    }

    /// <summary>The sign-in waiting for its second factor in this browser; null when there is none (or it expired).</summary>
    public async Task<PendingTwoFactor?> PendingAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var result = await http.AuthenticateAsync(IdentityConstants.TwoFactorUserIdScheme);
        var userId = result.Principal?.FindFirstValue(ClaimTypes.Name);
        var user = userId is null ? null : await signIn.UserManager.FindByIdAsync(userId);
        if (user is null)
        {
            return null;
        }

        return new PendingTwoFactor(user, result.Principal!.FindFirstValue(SignInSession.MethodClaim) ?? AuthenticationMethods.Password,
            result.Principal!.FindFirstValue(ClaimTypes.AuthenticationMethod));
    }

    /// <summary>
    /// Checks the code; when it holds, ends the two-factor step and creates the session. A wrong code (or any code while
    /// the account is locked out) is refused the same way, and a wrong one counts toward the lockout.
    /// </summary>
    public async Task<bool> CompleteAsync(HttpContext http, PendingTwoFactor pending, SecondFactor factor, string code, string? clientId)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(pending);
        var users = signIn.UserManager;
        var user = pending.User;
        var method = factor == SecondFactor.AuthenticatorCode ? "totp" : "recovery_code";
        if (await users.IsLockedOutAsync(user))
        {
            await RecordFailureAsync(user, pending, method, "locked_out", clientId);
            return false;
        }

        var typed = Normalize(code, factor);
        var valid = typed.Length > 0 && factor switch
        {
            SecondFactor.AuthenticatorCode => await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, typed),
            _ => (await users.RedeemTwoFactorRecoveryCodeAsync(user, typed)).Succeeded,
        };
        if (!valid)
        {
            await users.AccessFailedAsync(user);
            var reason = await users.IsLockedOutAsync(user) ? "wrong_code_now_locked_out" : "wrong_code";
            await RecordFailureAsync(user, pending, method, reason, clientId);
            return false;
        }

        await users.ResetAccessFailedCountAsync(user);
        await http.SignOutAsync(IdentityConstants.TwoFactorUserIdScheme);
        if (user.PasswordChangeRequiredAt is not null)
        {
            // An admin forced a password reset: no session until the new password is set (SetPassword).
            PasswordChangeTicket.Issue(http, user);
            logger.LogInformation("User {UserId} gave both factors and must set a new password before signing in", user.Id);
            return true;
        }

        List<Claim> claims = [.. SignInSession.NewSessionClaims(time.GetUtcNow(), AuthenticationMethods.WithSecondFactor(pending.FirstMethod))];
        if (pending.Provider is not null)
        {
            claims.Add(new Claim(ClaimTypes.AuthenticationMethod, pending.Provider));
        }

        await signIn.SignInWithClaimsAsync(user, isPersistent: false, claims);
        logger.LogInformation("User {UserId} signed in with a second factor ({Method})", user.Id, method);
        metrics.SignIn(method, succeeded: true);
        await audit.RecordSignInAsync(user, "sign_in.two_factor", AuditOutcomes.Success, clientId, new { Method = method, First = pending.FirstMethod });
        if (factor == SecondFactor.RecoveryCode)
        {
            var left = await users.CountRecoveryCodesAsync(user);
            await audit.RecordAccountAsync(user, "two_factor.recovery_code_used", AuditOutcomes.Success, new { CodesLeft = left });
            emails.SendTwoFactorNotice(user, "A recovery code was used to sign in to your account",
                $"A recovery code was used to sign in to your account {user.UserName}. {left} unused recovery codes are left.");
        }

        return true;
    }

    private async Task RecordFailureAsync(ApplicationUser user, PendingTwoFactor pending, string method, string reason, string? clientId)
    {
        logger.LogInformation("Second factor refused for user {UserId}: {Reason}", user.Id, reason);
        metrics.SignIn(method, succeeded: false, reason);
        await audit.RecordSignInAsync(user, "sign_in.two_factor", AuditOutcomes.Failure, clientId, new { Method = method, First = pending.FirstMethod, Reason = reason });
    }

    /// <summary>Authenticator codes are typed with spaces or dashes at times; recovery codes keep their dash (Identity compares them exactly).</summary>
    public static string Normalize(string? code, SecondFactor factor) => factor == SecondFactor.AuthenticatorCode
        ? new string([.. (code ?? "").Where(char.IsAsciiDigit)])
        : (code ?? "").Trim().ToUpperInvariant();
}
