using IdentityServer.Accounts.Email;
using IdentityServer.Accounts.Federation;
using IdentityServer.Accounts.Passkeys;
using IdentityServer.Accounts.Passwords;
using IdentityServer.Accounts.Sessions;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Accounts;

public static class AccountRegistration
{
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var authentication = services.AddAuthentication(IdentityConstants.ApplicationScheme);
        authentication.AddIdentityCookies();
        // Google, GitHub, Discord and Microsoft, each only when its client id and secret are configured.
        authentication.AddFederation(builder.Configuration);
        var accountOptions = builder.Configuration.BindSetting<AccountOptions>(AccountOptions.Section);
        if (accountOptions.EmailLinkLifetime <= TimeSpan.Zero)
        {
            throw new StartupConfigurationException($"{AccountOptions.Section}:{nameof(AccountOptions.EmailLinkLifetime)}",
                $"{accountOptions.EmailLinkLifetime:c} is not a positive time span.");
        }

        services.AddSingleton(accountOptions);
        services.AddScoped<AccountLookup>();
        services.AddSingleton<AccountQueries>();
        services.AddIdentityCore<ApplicationUser>(options =>
            {
                options.User.RequireUniqueEmail = false;
                options.Password.RequiredLength = 10;
                // Length over composition rules (NIST SP 800-63B §5.1.1.2).
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequireDigit = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireLowercase = false;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                // Schema version 3 adds the passkey table (AspNetUserPasskeys, migration Passkeys) and the EF store's
                // IUserPasskeyStore, on which .NET 10's passkey support (SignInManager, PasskeyHandler) works.
                options.Stores.SchemaVersion = IdentitySchemaVersions.Version3;
            })
            // Roles (before the stores, which then register the role store): "admin" guards the admin API and pages.
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<IdentityDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders()
            // Common and breached passwords, and passwords holding the user name or email (NIST SP 800-63B §5.1.1.2).
            .AddPasswordValidator<PasswordPolicyValidator>();
        services.Configure<PasswordHasherOptions>(PasswordHashing.Configure);
        // Password reset, email verification and email change links: Identity's data-protection tokens, short-lived.
        services.Configure<DataProtectionTokenProviderOptions>(options => options.TokenLifespan = accountOptions.EmailLinkLifetime);
        services.AddScoped<AccountEmails>();
        services.AddScoped<TwoFactorSignIn>();
        // Passkeys: the relying party is the issuer (its host the RP ID, its origin the only one accepted).
        services.AddPasskeys();

        // Secure cookies whenever the issuer is https; an http issuer is only accepted for loopback (ProtocolRegistration).
        var secureCookies = builder.Configuration["Server:Issuer"]?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) == true;
        var sessionOptions = builder.Configuration.BindSetting<SignInSessionOptions>(SignInSessionOptions.Section);
        services.ConfigureApplicationCookie(options =>
        {
            // Over https the __Host- prefix: the browser then accepts the cookie only from this host, Secure, for path /,
            // so a sibling subdomain cannot plant a session cookie here (session fixation through cookie injection).
            options.Cookie.Name = secureCookies ? "__Host-idsrv.session" : "idsrv.session";
            options.Cookie.HttpOnly = true;
            // Lax: the cookie must come along when an app sends the browser to /connect/authorize.
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = secureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            options.LoginPath = "/account/login";
            options.LogoutPath = "/account/logout";
            options.AccessDeniedPath = "/account/access-denied";
            options.SlidingExpiration = true;
            options.ExpireTimeSpan = sessionOptions.IdleTimeout;
            SessionKeyRotation.Attach(options);
            SecurityStampCheck.Attach(options);
        });
        // The antiforgery cookie too: its framework default never sets Secure (CookieSecurePolicy.None).
        services.AddAntiforgery(options => options.Cookie.SecurePolicy = secureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest);

        // Server-side sessions: the cookie carries only a random key, the database its hash and the ticket.
        services.AddSingleton(sessionOptions);
        services.AddSingleton<DatabaseTicketStore>();
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<DatabaseTicketStore>((options, store) => options.SessionStore = store);
        // Identity re-issues the principal when it re-validates the security stamp; keep the session's sid and auth_time.
        services.Configure<SecurityStampValidatorOptions>(options => options.OnRefreshingPrincipal = context =>
        {
            var keep = context.CurrentPrincipal?.Claims.Where(c => c.Type is SignInSession.SessionIdClaim or SignInSession.AuthTimeClaim).ToList() ?? [];
            if (context.NewPrincipal?.Identity is System.Security.Claims.ClaimsIdentity identity)
            {
                identity.AddClaims(keep);
            }

            return Task.CompletedTask;
        });
        services.AddScoped<SessionService>();
        services.AddSingleton<LogoutNotifier>(); // the protocol delivers what it queues (AddBackchannelLogout)
        services.AddScoped<UserClaimsReader>();
        services.AddScoped<ConsentService>();
        services.AddRazorPages();
        return builder;
    }
}
