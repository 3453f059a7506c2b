using System.Security.Claims;
using System.Text.Encodings.Web;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Protocol;
using IdentityServer.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Admin;

/// <summary>
/// The admin API's authentication scheme: a bearer access token issued by this server (RFC 6750 §2.1, header only),
/// validated as a resource server would (signature, issuer, typ at+jwt, expiry), meant for this server (aud contains
/// the issuer), from an enabled client, and still live (grant valid, jti not revoked — read from the database, so a
/// revocation anywhere applies at once). Whether the caller may administer is the authorization policy's question.
/// </summary>
public sealed class AdminApiAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccessTokenValidator validator,
    AccessTokenStatus tokenStatus,
    ServerOptions protocol,
    UserManager<ApplicationUser> users)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminApiToken";
    public const string ScopeClaim = "scope";
    public const string ClientIdClaim = "client_id";
    public const string GrantIdClaim = "grant_id";
    private const string Realm = "admin";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var validated = await validator.ValidateAsync(header["Bearer ".Length..].Trim());
        if (validated is null || !validated.Audiences.Contains(protocol.Issuer))
        {
            return AuthenticateResult.Fail("The access token is invalid, expired or not meant for this server.");
        }

        if (!await tokenStatus.IsLiveAsync(validated, Context.RequestAborted))
        {
            return AuthenticateResult.Fail("The access token was revoked or its client is disabled.");
        }

        var identity = new ClaimsIdentity(SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, validated.Subject));
        // The person's name, for the audit log. (The admin check loads the same user again: from the unit of work, free.)
        if (validated.AuthorizationId is null)
        {
            // client_credentials: the caller is a client (a service account, if anything), named so in the audit log.
            identity.AddClaim(new Claim(ClaimTypes.Name, "client:" + validated.ClientId));
        }
        else if (await users.FindByIdAsync(validated.Subject) is { UserName: { } userName })
        {
            identity.AddClaim(new Claim(ClaimTypes.Name, userName));
        }

        identity.AddClaim(new Claim(ClientIdClaim, validated.ClientId));
        identity.AddClaims(validated.Scopes.Select(s => new Claim(ScopeClaim, s)));
        // How the person signed in (RFC 9068 §2.2.1 amr), for Admin:RequireTwoFactor.
        identity.AddClaims(validated.Token.Claims.Where(c => c.Type == AdminTwoFactor.MethodClaim).Select(c => new Claim(AdminTwoFactor.MethodClaim, c.Value)));
        if (validated.AuthorizationId is { } grantId)
        {
            identity.AddClaim(new Claim(GrantIdClaim, grantId));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>RFC 6750 §3: 401 with a Bearer challenge; invalid_token when a token was sent but did not hold (§3.1).</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (result.Failure is { } failure)
        {
            await WriteAsync(StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken, failure.Message);
            return;
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"Bearer realm=\"{Realm}\", scope=\"{ScopeCatalog.Admin}\"";
    }

    /// <summary>RFC 6750 §3.1: a valid token that does not carry the rights the request needs is insufficient_scope, 403.</summary>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteAsync(StatusCodes.Status403Forbidden, OAuthErrors.InsufficientScope,
            "The admin API needs a token with the admin scope, delegated by a person who is an administrator.");

    private Task WriteAsync(int status, string error, string description)
    {
        Response.StatusCode = status;
        Response.Headers.CacheControl = "no-store";
        Response.Headers.WWWAuthenticate =
            $"Bearer realm=\"{Realm}\", error=\"{error}\", error_description=\"{description}\", scope=\"{ScopeCatalog.Admin}\"";
        return Response.WriteAsJsonAsync(new ErrorResponse(error, description), Context.RequestAborted);
    }
}
