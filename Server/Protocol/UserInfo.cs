using IdentityServer.Accounts;
using IdentityServer.Clients;
using IdentityServer.Hosting;
using IdentityServer.Protocol.DPoP;
using IdentityServer.Tokens;

namespace IdentityServer.Protocol;

/// <summary>
/// The userinfo endpoint (OpenID Connect Core §5.3), GET and POST, with a bearer access token (RFC 6750 §2.1, or §2.2
/// in a form body) or a DPoP-bound one (RFC 9449 §7: "Authorization: DPoP", with a proof of the token's key). The token
/// must be ours, for this server (aud = issuer), carry openid, and its grant must still stand.
/// </summary>
public static class UserInfoEndpoint
{
    private const string BearerScheme = "Bearer";
    private const string DPoPScheme = "DPoP";

    public static IEndpointRouteBuilder MapUserInfoEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMethods(EndpointPaths.UserInfo, [HttpMethods.Get, HttpMethods.Post], HandleAsync).DisableAntiforgery().RequireCors(CorsSetup.ClientOrigins);
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, AccessTokenValidator validator, AccessTokenStatus status,
        UserClaimsReader users, ServerOptions protocol, DPoPProofValidator proofs, DPoPOptions dpop, DPoPNonces nonces)
    {
        var cancellationToken = context.RequestAborted;
        var challenge = new Challenges(dpop.Algorithms);
        var (token, scheme, malformed) = await ReadAccessTokenAsync(context.Request, cancellationToken);
        if (malformed)
        {
            return Challenges.Bearer(StatusCodes.Status400BadRequest, OAuthErrors.InvalidRequest,
                "Send the access token once, in the Authorization header or a readable form body.");
        }

        if (token is null)
        {
            // RFC 6750 §3.1 and RFC 9449 §7.1: no credentials at all -> bare challenges for both schemes, no error code.
            return new OAuthJsonResult(StatusCodes.Status401Unauthorized, _ => { }, challenge.Bare);
        }

        DPoPProof? proof = null;
        if (scheme == DPoPScheme)
        {
            if (dpop.RequireNonce)
            {
                // RFC 9449 §9: the resource's nonce, fresh with every answer.
                context.Response.Headers[DPoPNonces.HeaderName] = nonces.Issue();
            }

            var check = await proofs.ValidateAsync(context.Request.Headers[DPoPProofValidator.HeaderName],
                new DPoPRequirement(context.Request.Method, DiscoveryDocument.EndpointUrl(protocol, EndpointPaths.UserInfo), token), cancellationToken);
            if (check.Proof is null)
            {
                return challenge.DPoP(StatusCodes.Status401Unauthorized, check.Error!, check.Description!);
            }

            proof = check.Proof;
        }

        var validated = await validator.ValidateAsync(token);
        // Live means: signature and expiry hold, the grant stands, the jti is not revoked and the client is still enabled.
        if (validated is null || !validated.Audiences.Contains(protocol.Issuer)
            || !await status.IsLiveAsync(validated, cancellationToken))
        {
            return challenge.For(scheme, StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken, "The access token is invalid, expired or revoked.");
        }

        if (proof is null && validated.ConfirmationKey is not null)
        {
            // RFC 9449 §7.2: a DPoP-bound token is not a bearer token; without the proof it is refused.
            return challenge.DPoP(StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken,
                "This access token is DPoP-bound: send it with the DPoP scheme and a proof of its key.");
        }

        if (proof is not null && validated.ConfirmationKey != proof.Thumbprint)
        {
            // RFC 9449 §4.3 check 12 and §7.1: the proof must be made with the key the token is bound to.
            return challenge.DPoP(StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken,
                validated.ConfirmationKey is null ? "This access token is not DPoP-bound; send it as a Bearer token." : "The DPoP proof's key is not the key this access token is bound to.");
        }

        if (!validated.Scopes.Contains(ScopeCatalog.OpenId))
        {
            return challenge.For(scheme, StatusCodes.Status403Forbidden, OAuthErrors.InsufficientScope, "The access token lacks the openid scope.");
        }

        var claims = await users.ReadAsync(validated.Subject, validated.Scopes, cancellationToken);
        if (claims is null)
        {
            return challenge.For(scheme, StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken, "The user of this token no longer exists.");
        }

        return new OAuthJsonResult(StatusCodes.Status200OK, json =>
        {
            json.WriteString("sub", validated.Subject);
            claims.WriteTo(json);
        });
    }

    /// <summary>RFC 6750 §3 and RFC 9449 §7.1: the error goes in WWW-Authenticate, under the scheme the client used, as well as the body.</summary>
    private sealed class Challenges(IReadOnlyList<string> algorithms)
    {
        private readonly string _algs = string.Join(' ', algorithms);

        public string Bare => $"{BearerScheme} realm=\"userinfo\", {DPoPScheme} algs=\"{_algs}\"";

        public OAuthJsonResult For(string scheme, int status, string error, string description) =>
            scheme == DPoPScheme ? DPoP(status, error, description) : Bearer(status, error, description);

        public static OAuthJsonResult Bearer(int status, string error, string description) =>
            Answer(status, error, description, $"{BearerScheme} realm=\"userinfo\", error=\"{error}\", error_description=\"{description}\"");

        public OAuthJsonResult DPoP(int status, string error, string description) =>
            Answer(status, error, description, $"{DPoPScheme} error=\"{error}\", error_description=\"{description}\", algs=\"{_algs}\"");

        private static OAuthJsonResult Answer(int status, string error, string description, string challenge) =>
            new(status, json =>
            {
                json.WriteString("error", error);
                json.WriteString("error_description", description);
            }, challenge);
    }

    /// <summary>
    /// The token and its scheme: "Authorization: Bearer" or a form body's access_token (RFC 6750 §2.1, §2.2), or
    /// "Authorization: DPoP" (RFC 9449 §7.1); never from the query string (RFC 6750 §2.3 is not offered: URLs end up in logs).
    /// </summary>
    private static async Task<(string? Token, string Scheme, bool Malformed)> ReadAccessTokenAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        string? fromHeader = null;
        var scheme = BearerScheme;
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith(BearerScheme + " ", StringComparison.OrdinalIgnoreCase))
        {
            fromHeader = header[(BearerScheme.Length + 1)..].Trim();
        }
        else if (header.StartsWith(DPoPScheme + " ", StringComparison.OrdinalIgnoreCase))
        {
            fromHeader = header[(DPoPScheme.Length + 1)..].Trim();
            scheme = DPoPScheme;
        }

        string? fromBody = null;
        if (HttpMethods.IsPost(request.Method) && OAuthParameters.IsUrlEncodedForm(request))
        {
            var parameters = await OAuthParameters.ReadAsync(request, cancellationToken);
            if (parameters.NotAForm || parameters.All("access_token").Count > 1)
            {
                return (null, scheme, true);
            }

            fromBody = parameters["access_token"];
        }

        if (!string.IsNullOrEmpty(fromHeader) && !string.IsNullOrEmpty(fromBody))
        {
            return (null, scheme, true); // RFC 6750 §2: MUST NOT use more than one method
        }

        return (string.IsNullOrEmpty(fromHeader) ? (string.IsNullOrEmpty(fromBody) ? null : fromBody) : fromHeader, scheme, false);
    }
}
