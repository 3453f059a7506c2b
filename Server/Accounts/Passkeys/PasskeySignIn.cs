using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Accounts.Passkeys;

public enum PasskeySignInOutcome
{
    SignedIn,

    /// <summary>An admin forced a password reset: a new password comes before the session (<see cref="PasswordChangeTicket"/>).</summary>
    PasswordChangeRequired,

    Failed,
}

/// <summary>
/// Passwordless sign-in with a passkey, on Identity's assertion ceremony (<see cref="SignInManager{TUser}.MakePasskeyRequestOptionsAsync"/>
/// with no user: any discoverable passkey of this site, the account then named by its user handle). The session's amr
/// says what the assertion proved (<see cref="AuthenticationMethods.ForPasskey"/>). A disabled account is refused; a
/// password locked by wrong guesses is not a reason to refuse a passkey (docs/security.md, "Lockout").
/// </summary>
public sealed class PasskeySignIn(SignInManager<ApplicationUser> signIn, AuditLog audit, ServerMetrics metrics, TimeProvider time, ILogger<PasskeySignIn> logger)
{
    public const string Method = "passkey";

    /// <summary>The options for <c>navigator.credentials.get()</c>, as JSON; the challenge waits in Identity's two-factor cookie.</summary>
    public Task<string> RequestOptionsAsync() => signIn.MakePasskeyRequestOptionsAsync(null);

    public async Task<PasskeySignInOutcome> SignInAsync(HttpContext http, string? credentialJson, string? clientId)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (string.IsNullOrEmpty(credentialJson))
        {
            return await FailAsync(null, "no_credential", clientId);
        }

        PasskeyAssertionResult<ApplicationUser> result;
        try
        {
            result = await signIn.PerformPasskeyAssertionAsync(credentialJson);
        }
        catch (InvalidOperationException)
        {
            // Identity's way of saying no ceremony is under way in this browser (none begun, expired, or used).
            return await FailAsync(null, "no_ceremony", clientId);
        }

        if (!result.Succeeded)
        {
            logger.LogInformation("Passkey assertion refused: {Reason}", result.Failure.Message);
            return await FailAsync(null, "assertion_refused", clientId);
        }

        var user = result.User;
        if (AccountStatus.IsDisabled(user, time.GetUtcNow()) || !await signIn.CanSignInAsync(user))
        {
            return await FailAsync(user, "not_allowed", clientId);
        }

        // The new signature counter and backup state (Identity's ceremony leaves storing them to the caller).
        if (!(await signIn.UserManager.AddOrUpdatePasskeyAsync(user, result.Passkey)).Succeeded)
        {
            return await FailAsync(user, "passkey_not_updated", clientId);
        }

        var userVerified = PasskeyAssertionFlags.UserVerified(credentialJson);
        if (user.PasswordChangeRequiredAt is not null)
        {
            logger.LogInformation("User {UserId} signed in with a passkey and must set a new password first", user.Id);
            PasswordChangeTicket.Issue(http, user);
            return PasskeySignInOutcome.PasswordChangeRequired;
        }

        await signIn.SignInWithClaimsAsync(user, isPersistent: false,
            SignInSession.NewSessionClaims(time.GetUtcNow(), AuthenticationMethods.ForPasskey(userVerified)));
        logger.LogInformation("User {UserId} signed in with a passkey (user verified: {UserVerified})", user.Id, userVerified);
        metrics.SignIn(Method, succeeded: true);
        await audit.RecordSignInAsync(user, "sign_in.passkey", AuditOutcomes.Success, clientId, new { Passkey = result.Passkey.Name, UserVerified = userVerified });
        return PasskeySignInOutcome.SignedIn;
    }

    private async Task<PasskeySignInOutcome> FailAsync(ApplicationUser? user, string reason, string? clientId)
    {
        logger.LogInformation("Passkey sign-in failed: {Reason}", reason);
        metrics.SignIn(Method, succeeded: false, reason);
        await audit.RecordSignInAsync(user, "sign_in.passkey", AuditOutcomes.Failure, clientId, new { Reason = reason });
        return PasskeySignInOutcome.Failed;
    }
}
