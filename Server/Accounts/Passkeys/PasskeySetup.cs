using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityServer.Accounts.Passkeys;

/// <summary>
/// Passkeys on ASP.NET Core Identity's own WebAuthn support (<see cref="PasskeyHandler{TUser}"/>: challenges, signature
/// and counter checks). The relying party is the configured issuer: its host is the RP ID (WebAuthn §5.1.2 "rp.id"), and
/// a ceremony counts only from the issuer's own origin, never from a frame of another site (WebAuthn §7.1 steps 9-10,
/// §7.2 steps 12-13).
/// </summary>
public static class PasskeySetup
{
    public static IServiceCollection AddPasskeys(this IServiceCollection services)
    {
        services.AddOptions<IdentityPasskeyOptions>().Configure<ServerOptions>((options, server) =>
        {
            var issuer = new Uri(server.Issuer);
            var expectedOrigin = issuer.GetLeftPart(UriPartial.Authority);
            options.ServerDomain = issuer.Host;
            options.ValidateOrigin = context => ValueTask.FromResult(IsOwnOrigin(context.Origin, context.CrossOrigin, context.TopOrigin, expectedOrigin));
            // Discoverable credentials: the sign-in page asks for a passkey before it knows who is signing in.
            options.ResidentKeyRequirement = "required";
            // Preferred, not required: a security key without a PIN still serves as a second step after a password.
            // Whether the authenticator verified the user decides how much a passwordless sign-in is worth (amr "mfa").
            options.UserVerificationRequirement = "preferred";
        });
        services.TryAddScoped<IPasskeyHandler<ApplicationUser>, PasskeyHandler<ApplicationUser>>();
        services.AddScoped<PasskeyCredentials>();
        services.AddScoped<PasskeySignIn>();
        return services;
    }

    /// <summary>The client data's origin must be the issuer's origin exactly, and the ceremony a top-level one.</summary>
    public static bool IsOwnOrigin(string? origin, bool crossOrigin, string? topOrigin, string expectedOrigin) =>
        !crossOrigin
        && (topOrigin is null || string.Equals(topOrigin, expectedOrigin, StringComparison.Ordinal))
        && string.Equals(origin, expectedOrigin, StringComparison.Ordinal);
}
