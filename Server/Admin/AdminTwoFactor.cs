using System.Security.Claims;
using IdentityServer.Accounts;
using IdentityServer.Protocol;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace IdentityServer.Admin;

/// <summary>
/// <see cref="AdminOptions.RequireTwoFactor"/>: what counts as a multi-factor sign-in, and how a refusal for the lack
/// of one is answered. A page sends the person to /account/security (to turn two-step verification on, or to sign in
/// again with it); the API answers RFC 9470 §3: 401, error="insufficient_user_authentication" with the acr_values to ask for.
/// </summary>
public static class AdminTwoFactor
{
    public const string FailureReason = "two_factor_required";

    /// <summary>The amr claim: one per method, in the session cookie and in access tokens alike.</summary>
    public const string MethodClaim = SignInSession.MethodClaim;

    public static bool IsMultiFactor(ClaimsPrincipal principal) =>
        principal.HasClaim(MethodClaim, AuthenticationMethods.MultiFactor);

    public sealed class ResultHandler : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
        {
            if (!authorizeResult.Forbidden || authorizeResult.AuthorizationFailure?.FailureReasons.Any(r => r.Message == FailureReason) != true)
            {
                await _default.HandleAsync(next, context, policy, authorizeResult);
                return;
            }

            if (policy.AuthenticationSchemes.Contains(AdminApiAuthentication.SchemeName))
            {
                const string description = "The admin API needs a token from a sign-in with a second factor.";
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.CacheControl = "no-store";
                context.Response.Headers.WWWAuthenticate =
                    $"Bearer error=\"insufficient_user_authentication\", error_description=\"{description}\", acr_values=\"{AuthenticationMethods.MultiFactorLevel}\"";
                await context.Response.WriteAsJsonAsync(new ErrorResponse("insufficient_user_authentication", description), context.RequestAborted);
                return;
            }

            context.Response.Redirect("/account/security?required=admin");
        }
    }
}
