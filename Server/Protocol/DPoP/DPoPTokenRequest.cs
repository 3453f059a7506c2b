using IdentityServer.Clients;
using IdentityServer.Hosting;

namespace IdentityServer.Protocol.DPoP;

/// <summary>
/// The DPoP part of one token request (RFC 9449 §5), checked by the token endpoint before any grant runs: a proof sent
/// must be valid, a client registered with dpop_bound_access_tokens must send one (§5.2). The grants then read
/// <see cref="Proof"/> to bind what they issue (§5, §10), and the response says token_type DPoP (§5.1).
/// </summary>
public sealed class DPoPTokenRequest(DPoPProofValidator validator, DPoPOptions options, DPoPNonces nonces, ServerOptions server)
{
    /// <summary>The valid proof of this request, or null when it sent none.</summary>
    public DPoPProof? Proof { get; private set; }

    /// <summary>Null to go on, else the error that answers the request.</summary>
    public async Task<IResult?> CheckAsync(HttpContext http, ClientDescriptor client)
    {
        var header = http.Request.Headers[DPoPProofValidator.HeaderName];
        var required = client.Settings.DpopBoundAccessTokens == true;
        if ((header.Count > 0 || required) && options.RequireNonce)
        {
            // §8.2: the server may hand a fresh nonce out with any answer; clients keep the latest.
            http.Response.Headers[DPoPNonces.HeaderName] = nonces.Issue();
        }

        if (header.Count == 0)
        {
            return required
                ? new OAuthError(OAuthErrors.InvalidRequest, "This client must send a DPoP proof with its token requests (dpop_bound_access_tokens).").ToJson()
                : null;
        }

        var check = await validator.ValidateAsync(header,
            new DPoPRequirement(http.Request.Method, DiscoveryDocument.EndpointUrl(server, EndpointPaths.Token)), http.RequestAborted);
        if (check.Proof is null)
        {
            return new OAuthError(check.Error!, check.Description).ToJson();
        }

        Proof = check.Proof;
        return null;
    }
}

public static class DPoPRegistration
{
    /// <summary>The DPoP options (checked now, so a bad setting stops startup), the nonce issuer and the proof checks.</summary>
    public static IServiceCollection AddDPoP(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSetting<DPoPOptions>(DPoPOptions.Section);
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton<DPoPNonces>();
        services.AddScoped<DPoPProofValidator>();
        services.AddScoped<DPoPTokenRequest>();
        return services;
    }
}
