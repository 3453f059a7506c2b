using IdentityServer.Hosting;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// The settings of one provider, section <c>Authentication:&lt;Provider&gt;</c>. A provider exists only when both its
/// client id and secret are set; every endpoint has the provider's documented default and can be overridden (tests
/// point them at local stand-ins).
/// </summary>
public sealed class ProviderSettings
{
    public const string Section = "Authentication";

    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    public string? AuthorizationEndpoint { get; set; }
    public string? TokenEndpoint { get; set; }
    public string? UserInformationEndpoint { get; set; }
    /// <summary>Our redirect URI's path, registered at the provider (default <c>/signin-&lt;provider&gt;</c>).</summary>
    public string? CallbackPath { get; set; }

    public static (ProviderSettings? Settings, IConfigurationSection Section) Read(IConfiguration configuration, string provider)
    {
        var section = configuration.GetSection(Section).GetSection(provider);
        var settings = section.BindSetting<ProviderSettings>(reportUnknownKeys: false);
        var hasId = !string.IsNullOrWhiteSpace(settings?.ClientId);
        var hasSecret = !string.IsNullOrWhiteSpace(settings?.ClientSecret);
        if (hasId != hasSecret)
        {
            // Half a provider is a mistake, not a choice: say which half is missing instead of silently offering no button.
            var (missing, present) = hasId ? (nameof(ClientSecret), nameof(ClientId)) : (nameof(ClientId), nameof(ClientSecret));
            throw new StartupConfigurationException($"{section.Path}:{missing}", $"{section.Path}:{present} is set, so {missing} is required too (or remove both).");
        }

        return (hasId && hasSecret ? settings : null, section);
    }

    /// <summary>What every provider shares: where the result goes, how the flow is protected, and what failures show.</summary>
    public void ApplyTo(OAuthOptions options, string scheme, string authorizationEndpoint, string tokenEndpoint, string userInformationEndpoint,
        bool secureCookies, Func<OAuthCreatingTicketContext, Task<ExternalProfile>> readProfile)
    {
        options.ClientId = ClientId!;
        options.ClientSecret = ClientSecret!;
        options.AuthorizationEndpoint = AuthorizationEndpoint ?? authorizationEndpoint;
        options.TokenEndpoint = TokenEndpoint ?? tokenEndpoint;
        options.UserInformationEndpoint = UserInformationEndpoint ?? userInformationEndpoint;
        // One redirect URI per provider: a response is only ever read by the handler of the provider it was meant for
        // (the mix-up defence of RFC 9700 §4.4.2.2).
        options.CallbackPath = CallbackPath ?? "/signin-" + scheme.ToLowerInvariant();
        options.SignInScheme = IdentityConstants.ExternalScheme;
        // RFC 7636 / RFC 9700 §2.1.1: all four providers accept S256.
        options.UsePkce = true;
        // The provider's tokens are used once, to read the profile, and never stored.
        options.SaveTokens = false;
        options.BackchannelTimeout = TimeSpan.FromSeconds(15);
        // The correlation cookie binds the state to this browser (RFC 6749 §10.12). The provider sends the browser back
        // with a top-level GET, which Lax cookies accompany; None would need Secure, which plain-http loopback lacks.
        options.CorrelationCookie.SameSite = SameSiteMode.Lax;
        options.CorrelationCookie.SecurePolicy = secureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        // The claims of the external cookie are our cleaned profile alone (ExternalProfile.AddTo): the Google handler's
        // default claim actions would add the raw values first, and those would be the ones read back.
        options.ClaimActions.Clear();
        options.Events.OnCreatingTicket = async context =>
        {
            var profile = await readProfile(context);
            profile.AddTo(context.Identity!);
        };
        options.Events.OnRemoteFailure = ExternalFailure.HandleAsync;
    }
}
