using System.Security.Claims;
using IdentityServer.Accounts.Email;
using IdentityServer.Accounts.Passkeys;
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

/// <summary>The second factors an account has: an authenticator app (two-step verification turned on) and passkeys.</summary>
public sealed record SecondFactors(bool AuthenticatorApp, bool Passkey)
{
    public bool Any => AuthenticatorApp || Passkey;
}

/// <summary>
/// The second step of a sign-in, on Identity's own mechanisms. After the first factor (a password, or a provider) of an
/// account with two-factor authentication on, no session is created yet: Identity's short-lived two-factor cookie
/// (<see cref="IdentityConstants.TwoFactorUserIdScheme"/>, data-protected, five minutes) carries the user id and the first
/// method. A code then either creates the session (amr: first method, otp, mfa) or counts as a failed attempt toward
/// the account's lockout, as a wrong password does. A passkey serves as the second step too (Identity's assertion
/// ceremony for this one account; its challenge waits in the same two-factor cookie): amr first method, hwk, user, mfa.
/// </summary>
public sealed class TwoFactorSignIn(SignInManager<ApplicationUser> signIn, IPasskeyHandler<ApplicationUser> passkeys, AccountEmails emails,
    AuditLog audit, ServerMetrics metrics, TimeProvider time, ILogger<TwoFactorSignIn> logger)
{
    /// <summary>Where the passkey challenge of the second step waits: an item of the two-factor cookie.</summary>
    private const string PasskeyStateItem = "passkey_assertion_state";

    /// <summary>The second factors of <paramref name="user"/>: an authenticator app when two-step verification is on, and passkeys.</summary>
    public async Task<SecondFactors> FactorsOfAsync(ApplicationUser user) =>
        new(await signIn.UserManager.GetTwoFactorEnabledAsync(user), (await signIn.UserManager.GetPasskeysAsync(user)).Count > 0);

    /// <summary>Whether a sign-in of <paramref name="user"/> needs a second factor: it has one (an authenticator app or a passkey).</summary>
    public async Task<bool> IsRequiredAsync(ApplicationUser user) => (await FactorsOfAsync(user)).Any;

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
    /// The options for <c>navigator.credentials.get()</c> that ask for one of the pending account's passkeys, as JSON;
    /// the challenge is kept with the pending sign-in. Null when no sign-in is pending.
    /// </summary>
    public async Task<string?> PasskeyOptionsAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var result = await http.AuthenticateAsync(IdentityConstants.TwoFactorUserIdScheme);
        if (result.Principal is null || await PendingAsync(http) is not { } pending)
        {
            return null;
        }

        var options = await passkeys.MakeRequestOptionsAsync(pending.User, http);
        var properties = result.Properties ?? new AuthenticationProperties();
        properties.Items[PasskeyStateItem] = options.AssertionState;
        await http.SignInAsync(IdentityConstants.TwoFactorUserIdScheme, result.Principal, properties);
        return options.RequestOptionsJson;
    }

    /// <summary>
    /// Checks a passkey's answer to the challenge of <see cref="PasskeyOptionsAsync"/> (Identity verifies it belongs to the
    /// pending account); when it holds, creates the session as a code would. A refused answer counts toward the lockout.
    /// </summary>
    public async Task<bool> CompleteWithPasskeyAsync(HttpContext http, PendingTwoFactor pending, string? credentialJson, string? clientId)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(pending);
        var users = signIn.UserManager;
        var user = pending.User;
        if (await users.IsLockedOutAsync(user))
        {
            await RecordFailureAsync(user, pending, PasskeySignIn.Method, "locked_out", clientId);
            return false;
        }

        var cookie = await http.AuthenticateAsync(IdentityConstants.TwoFactorUserIdScheme);
        string? state = null;
        if (cookie.Principal is not null && cookie.Properties?.Items.Remove(PasskeyStateItem, out state) == true)
        {
            // One answer per challenge: the challenge leaves the cookie before the answer is checked.
            await http.SignInAsync(IdentityConstants.TwoFactorUserIdScheme, cookie.Principal, cookie.Properties);
        }

        var valid = false;
        if (state is not null && !string.IsNullOrEmpty(credentialJson))
        {
            var result = await passkeys.PerformAssertionAsync(new PasskeyAssertionContext { HttpContext = http, CredentialJson = credentialJson, AssertionState = state });
            if (!result.Succeeded)
            {
                logger.LogInformation("Passkey assertion refused for user {UserId}: {Reason}", user.Id, result.Failure.Message);
            }

            valid = result.Succeeded && result.User is { } owner && owner.Id == user.Id
                && (await users.AddOrUpdatePasskeyAsync(user, result.Passkey)).Succeeded;
        }

        if (!valid)
        {
            await users.AccessFailedAsync(user);
            var reason = state is null ? "no_challenge" : await users.IsLockedOutAsync(user) ? "passkey_refused_now_locked_out" : "passkey_refused";
            await RecordFailureAsync(user, pending, PasskeySignIn.Method, reason, clientId);
            return false;
        }

        await FinishAsync(http, pending, PasskeySignIn.Method, AuthenticationMethods.WithPasskey(pending.FirstMethod), clientId);
        return true;
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
            // Only with the authenticator app turned on (a key may exist unconfirmed), and each code once.
            SecondFactor.AuthenticatorCode => await users.GetTwoFactorEnabledAsync(user)
                && await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, typed)
                && await AuthenticatorCodeUse.TryUseAsync(users, user, typed, time.GetUtcNow()),
            _ => (await users.RedeemTwoFactorRecoveryCodeAsync(user, typed)).Succeeded,
        };
        if (!valid)
        {
            await users.AccessFailedAsync(user);
            var reason = await users.IsLockedOutAsync(user) ? "wrong_code_now_locked_out" : "wrong_code";
            await RecordFailureAsync(user, pending, method, reason, clientId);
            return false;
        }

        if (!await FinishAsync(http, pending, method, AuthenticationMethods.WithSecondFactor(pending.FirstMethod), clientId))
        {
            return true;
        }

        if (factor == SecondFactor.RecoveryCode)
        {
            var left = await users.CountRecoveryCodesAsync(user);
            await audit.RecordAccountAsync(user, "two_factor.recovery_code_used", AuditOutcomes.Success, new { CodesLeft = left });
            emails.SendTwoFactorNotice(user, "A recovery code was used to sign in to your account",
                $"A recovery code was used to sign in to your account {user.UserName}. {left} unused recovery codes are left.");
        }

        return true;
    }

    /// <summary>Both factors given: ends the two-factor step and creates the session; false when a forced password reset comes first.</summary>
    private async Task<bool> FinishAsync(HttpContext http, PendingTwoFactor pending, string method, string[] methods, string? clientId)
    {
        var user = pending.User;
        await signIn.UserManager.ResetAccessFailedCountAsync(user);
        await http.SignOutAsync(IdentityConstants.TwoFactorUserIdScheme);
        if (user.PasswordChangeRequiredAt is not null)
        {
            // An admin forced a password reset: no session until the new password is set (SetPassword).
            PasswordChangeTicket.Issue(http, user);
            logger.LogInformation("User {UserId} gave both factors and must set a new password before signing in", user.Id);
            return false;
        }

        List<Claim> claims = [.. SignInSession.NewSessionClaims(time.GetUtcNow(), methods)];
        if (pending.Provider is not null)
        {
            claims.Add(new Claim(ClaimTypes.AuthenticationMethod, pending.Provider));
        }

        await signIn.SignInWithClaimsAsync(user, isPersistent: false, claims);
        logger.LogInformation("User {UserId} signed in with a second factor ({Method})", user.Id, method);
        metrics.SignIn(method, succeeded: true);
        await audit.RecordSignInAsync(user, "sign_in.two_factor", AuditOutcomes.Success, clientId, new { Method = method, First = pending.FirstMethod });
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
