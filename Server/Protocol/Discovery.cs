using System.Text.Json;
using IdentityServer.Accounts;
using IdentityServer.Clients;
using IdentityServer.Hosting;
using IdentityServer.Tokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Protocol;

/// <summary>
/// The discovery document (OpenID Connect Discovery 1.0 §3) and the JWKS (RFC 7517), serialized once per
/// configuration and key ring rather than per request. They list only what the server implements.
/// </summary>
public sealed class DiscoveryDocument(ServerOptions protocol, SigningKeyRing keys, IGrantTypeCatalog grants, DynamicRegistrationOptions? registration = null,
    PushedAuthorization.PushedAuthorizationOptions? pushedAuthorization = null, DPoP.DPoPOptions? dpop = null)
{
    private readonly Lazy<byte[]> _configuration = new(() => BuildConfiguration(protocol, keys, grants, registration?.Enabled == true,
        pushedAuthorization?.RequireForAllClients == true, (dpop ?? new DPoP.DPoPOptions()).Algorithms));
    private readonly Lazy<byte[]> _jwks = new(() => BuildJwks(keys));

    public byte[] Configuration => _configuration.Value;
    public byte[] Jwks => _jwks.Value;

    /// <summary>The absolute URL of an endpoint under the issuer.</summary>
    public static string EndpointUrl(ServerOptions protocol, string path) => protocol.Issuer.TrimEnd('/') + path;

    private static readonly string[] ClientAuthMethods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
    private static readonly string[] ConfidentialAuthMethods = ["client_secret_basic", "client_secret_post", "private_key_jwt"];

    private static byte[] BuildConfiguration(ServerOptions protocol, SigningKeyRing keys, IGrantTypeCatalog grants, bool registrationEnabled,
        bool parRequired, IReadOnlyList<string> dpopAlgorithms)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("issuer", protocol.Issuer);
            json.WriteString("authorization_endpoint", EndpointUrl(protocol, EndpointPaths.Authorize));
            json.WriteString("token_endpoint", EndpointUrl(protocol, EndpointPaths.Token));
            json.WriteString("userinfo_endpoint", EndpointUrl(protocol, EndpointPaths.UserInfo));
            json.WriteString("jwks_uri", EndpointUrl(protocol, EndpointPaths.Jwks));
            json.WriteString("introspection_endpoint", EndpointUrl(protocol, EndpointPaths.Introspection));
            json.WriteString("revocation_endpoint", EndpointUrl(protocol, EndpointPaths.Revocation));
            json.WriteString("end_session_endpoint", EndpointUrl(protocol, EndpointPaths.EndSession));
            // RFC 8628 §4.
            json.WriteString("device_authorization_endpoint", EndpointUrl(protocol, EndpointPaths.DeviceAuthorization));
            if (registrationEnabled)
            {
                // RFC 8414 §2 / OpenID Connect Discovery §3: only while dynamic registration is switched on.
                json.WriteString("registration_endpoint", EndpointUrl(protocol, DynamicRegistrationOptions.Path));
            }
            WriteArray(json, "scopes_supported", ScopeCatalog.StandardScopes.Keys);
            WriteArray(json, "response_types_supported", ["code"]);
            WriteArray(json, "response_modes_supported", [ResponseModes.Query, ResponseModes.Fragment, ResponseModes.FormPost]);
            WriteArray(json, "grant_types_supported", grants.GrantTypes);
            WriteArray(json, "code_challenge_methods_supported", ["S256"]);
            WriteArray(json, "token_endpoint_auth_methods_supported", ClientAuthMethods);
            // RFC 8414 §2 / Discovery §3: the algorithms accepted on private_key_jwt assertions, at every endpoint that takes them.
            WriteArray(json, "token_endpoint_auth_signing_alg_values_supported", ClientAuthenticationMethods.AssertionAlgorithms);
            WriteArray(json, "introspection_endpoint_auth_methods_supported", ConfidentialAuthMethods);
            WriteArray(json, "introspection_endpoint_auth_signing_alg_values_supported", ClientAuthenticationMethods.AssertionAlgorithms);
            WriteArray(json, "revocation_endpoint_auth_methods_supported", ClientAuthMethods);
            WriteArray(json, "revocation_endpoint_auth_signing_alg_values_supported", ClientAuthenticationMethods.AssertionAlgorithms);
            // RFC 9126 §5.
            json.WriteString("pushed_authorization_request_endpoint", EndpointUrl(protocol, EndpointPaths.PushedAuthorization));
            json.WriteBoolean("require_pushed_authorization_requests", parRequired);
            WriteArray(json, "subject_types_supported", ["public"]);
            WriteArray(json, "id_token_signing_alg_values_supported", keys.Keys.Select(k => k.Algorithm).Distinct());
            // OpenID Connect Discovery §3; the levels are this server's own (docs/accounts.md#acr-levels).
            WriteArray(json, "acr_values_supported", AuthenticationMethods.Levels);
            WriteArray(json, "prompt_values_supported", [Prompts.None, Prompts.Login, Prompts.Consent, Prompts.SelectAccount]);
            WriteArray(json, "claims_supported", ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "acr", "amr",
                "name", "preferred_username", "picture", "updated_at", "email", "email_verified", "roles"]);
            WriteArray(json, "ui_locales_supported", ["en"]);
            json.WriteBoolean("claims_parameter_supported", false);
            json.WriteBoolean("request_parameter_supported", false);
            json.WriteBoolean("request_uri_parameter_supported", false);
            json.WriteBoolean("authorization_response_iss_parameter_supported", true);
            json.WriteBoolean("backchannel_logout_supported", true);
            json.WriteBoolean("backchannel_logout_session_supported", true);
            // RFC 9449 §5.1: DPoP proofs are accepted at the token and userinfo endpoints with these algorithms.
            WriteArray(json, "dpop_signing_alg_values_supported", dpopAlgorithms);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    internal static void WriteArray(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static byte[] BuildJwks(SigningKeyRing keys)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var key in keys.Keys)
            {
                WritePublicJwk(json, key);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Writes only public members: never d, p, q, dp, dq or qi.</summary>
    private static void WritePublicJwk(Utf8JsonWriter json, SigningKey key)
    {
        json.WriteStartObject();
        json.WriteString("use", "sig");
        json.WriteString("kid", key.KeyId);
        json.WriteString("alg", key.Algorithm);
        switch (key.Key)
        {
            case RsaSecurityKey rsa:
                var parameters = rsa.Rsa.ExportParameters(includePrivateParameters: false);
                json.WriteString("kty", "RSA");
                json.WriteString("n", Base64UrlEncoder.Encode(parameters.Modulus));
                json.WriteString("e", Base64UrlEncoder.Encode(parameters.Exponent));
                break;
            case ECDsaSecurityKey ec:
                var point = ec.ECDsa.ExportParameters(includePrivateParameters: false);
                json.WriteString("kty", "EC");
                json.WriteString("crv", ec.ECDsa.KeySize switch { 256 => "P-256", 384 => "P-384", _ => "P-521" });
                json.WriteString("x", Base64UrlEncoder.Encode(point.Q.X));
                json.WriteString("y", Base64UrlEncoder.Encode(point.Q.Y));
                break;
            default:
                throw new InvalidOperationException("Only RSA and EC keys are published.");
        }

        json.WriteEndObject();
    }
}

public static class DiscoveryEndpoints
{
    public static IEndpointRouteBuilder MapDiscoveryEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(EndpointPaths.Discovery, (DiscoveryDocument document, HttpContext context) =>
            WriteCached(context, document.Configuration, "application/json")).RequireCors(CorsSetup.PublicMetadata);
        app.MapGet(EndpointPaths.Jwks, (DiscoveryDocument document, HttpContext context) =>
            WriteCached(context, document.Jwks, "application/json")).RequireCors(CorsSetup.PublicMetadata);
        return app;
    }

    private static IResult WriteCached(HttpContext context, byte[] body, string contentType)
    {
        // Both change only with configuration or keys; an hour of caching lets clients skip most fetches, and a
        // rotated key is published (as a secondary) long before it starts signing.
        context.Response.Headers.CacheControl = "public, max-age=3600";
        return Results.Bytes(body, contentType);
    }
}
