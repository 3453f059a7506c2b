using IdentityServer.Accounts;
using IdentityServer.Hosting;

namespace IdentityServer.Pages.Account;

/// <summary>The second step with one of the recovery codes instead of the authenticator app: each code works once.</summary>
[RateLimited(RateLimitScope.SignIn)]
public sealed class LoginRecoveryModel(TwoFactorSignIn twoFactor) : LoginTwoFactorModel(twoFactor)
{
    protected override SecondFactor Factor => SecondFactor.RecoveryCode;
}
