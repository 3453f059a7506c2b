using System.Security.Claims;
using IdentityServer.Accounts;
using IdentityServer.Accounts.Email;
using IdentityServer.Accounts.Federation;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Where the OAuth handlers send the person once the provider's answer checked out (state, correlation, code
/// exchange, user information). The provider's answer waits in the short-lived external cookie; it is used once,
/// decided on by the linking rule (<see cref="ExternalSignIn"/>), and turned into our own session with its sid and
/// auth_time like every other sign-in.
/// </summary>
public sealed class ExternalCallbackModel(SignInManager<ApplicationUser> signIn, ExternalSignIn federation, TimeProvider time, ILogger<ExternalCallbackModel> logger,
    AuditLog audit, ServerMetrics metrics, AccountEmails emails, TwoFactorSignIn twoFactor) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string ProviderName { get; private set; } = "";
    public ExternalSignInOutcome? Outcome { get; private set; }

    /// <summary>Sign in the usual way, then carry on to where the person was going.</summary>
    public string SignInUrl => Url.Page("/Account/Login", new { returnUrl = SafeReturnUrl })!;

    /// <summary>Sign in the usual way, then land on the page where the provider can be linked.</summary>
    public string SignInToLinkUrl => Url.Page("/Account/Login", new { returnUrl = Url.Page("/Account/Logins") })!;

    public async Task<IActionResult> OnGetAsync()
    {
        var info = await signIn.GetExternalLoginInfoAsync();
        if (info is null)
        {
            // No (or an expired) external cookie: the callback was opened directly, replayed, or took too long.
            return LocalRedirect(ExternalFailure.ErrorUrl(ExternalFailureReason.InvalidState, null, SignInUrl));
        }

        // The provider's answer is good for this one decision.
        await HttpContext.SignOutAsync(IdentityConstants.ExternalScheme);
        ProviderName = info.ProviderDisplayName ?? info.LoginProvider;
        var result = await federation.ResolveAsync(info, ExternalProfile.From(info.ProviderKey, info.Principal), HttpContext.RequestAborted);
        Outcome = result.Outcome;
        var method = info.LoginProvider.ToLowerInvariant();
        if (result.User is null)
        {
            metrics.SignIn(method, succeeded: false, ReasonWord(result.Outcome));
            await audit.RecordSignInAsync(null, "sign_in.external", AuditOutcomes.Failure, ClientId, Details(info.LoginProvider, result.Outcome));
            return Page();
        }

        if (result.Outcome == ExternalSignInOutcome.Linked)
        {
            await audit.RecordExternalLoginAsync(result.User, "external_login.linked", AuditOutcomes.Success, ClientId, Details(info.LoginProvider, result.Outcome));
            emails.SendSignInMethodLinkedNotice(result.User, ProviderName);
        }

        if (await twoFactor.IsRequiredAsync(result.User))
        {
            // The provider vouched for the person, but the account asks for a second factor: a provider's sign-in is
            // one factor here, like a password (docs/accounts.md#two-step-verification).
            await twoFactor.BeginAsync(HttpContext, result.User, AuthenticationMethods.ForProvider(info.LoginProvider), info.LoginProvider);
            logger.LogInformation("User {UserId} signed in with {Provider}; a second factor is next", result.User.Id, info.LoginProvider);
            await audit.RecordSignInAsync(result.User, "sign_in.external", AuditOutcomes.Success, ClientId,
                new { Provider = info.LoginProvider, Result = result.Outcome.ToString(), SecondFactor = "required" });
            return LocalRedirect(Url.Page("/Account/LoginTwoFactor", new { returnUrl = SafeReturnUrl })!);
        }

        Claim[] claims = [.. SignInSession.NewSessionClaims(time.GetUtcNow(), AuthenticationMethods.ForProvider(info.LoginProvider)),
            new(ClaimTypes.AuthenticationMethod, info.LoginProvider)];
        await signIn.SignInWithClaimsAsync(result.User, isPersistent: false, claims);
        logger.LogInformation("User {UserId} signed in with {Provider} ({Outcome})", result.User.Id, info.LoginProvider, result.Outcome);
        metrics.SignIn(method, succeeded: true);
        await audit.RecordSignInAsync(result.User, "sign_in.external", AuditOutcomes.Success, ClientId, Details(info.LoginProvider, result.Outcome));
        return LocalRedirect(SafeReturnUrl);
    }

    /// <summary>The client the sign-in is for, if it started at the authorization endpoint.</summary>
    private string? ClientId => AuthorizeReturnUrl.ClientIdOf(ReturnUrl);

    /// <summary>A refusal as a metric tag: the outcome's name in snake case (a fixed set).</summary>
    private static string ReasonWord(ExternalSignInOutcome outcome) =>
        System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(outcome.ToString());

    /// <summary>The details of this page's audit entries.</summary>
    private static object Details(string provider, ExternalSignInOutcome how) => new { Provider = provider, Result = how.ToString() };

    private string SafeReturnUrl => ReturnUrl is not null && Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/";
}
