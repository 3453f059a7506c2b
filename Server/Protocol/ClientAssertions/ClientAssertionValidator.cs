using IdentityServer.Clients;
using IdentityServer.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Protocol.ClientAssertions;

/// <summary>The client an assertion authenticated, or why it did not (said to the client as invalid_client).</summary>
public sealed record ClientAssertionResult(ClientDescriptor? Client, string? Problem, string? ClientId = null);

/// <summary>
/// private_key_jwt client authentication (RFC 7521 §4.2, RFC 7523 §2.2 and §3, OpenID Connect Core §9): a JWT the client
/// signed with one of its registered keys, sent as client_assertion. Checked in this order: the form, the algorithm
/// (asymmetric allow-list), the client (iss = sub = client_id, registered for private_key_jwt), the signature against
/// the client's keys, the audience, the times, and last the jti, recorded only for an otherwise valid assertion so that
/// nobody can burn another client's jti values.
/// </summary>
public sealed class ClientAssertionValidator(
    ClientStore clients,
    ClientKeySource keys,
    UsedAssertions used,
    ClientAssertionOptions options,
    ServerOptions protocol,
    TimeProvider time)
{
    public const string JwtBearerType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private const int MaxLength = 8192;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <param name="assertionType">client_assertion_type.</param>
    /// <param name="assertion">client_assertion.</param>
    /// <param name="clientId">client_id, when the request also sent one (RFC 7521 §4.2: it must then name the same client).</param>
    /// <param name="endpointPath">The path the assertion was sent to (an accepted audience, RFC 9126 §2).</param>
    public async Task<ClientAssertionResult> ValidateAsync(string? assertionType, string? assertion, string? clientId, string endpointPath,
        CancellationToken cancellationToken)
    {
        // RFC 7521 §4.2: client_assertion_type names the format; only the JWT bearer type of RFC 7523 §2.2 is served.
        if (assertionType != JwtBearerType)
        {
            return Fail("client_assertion_type must be " + JwtBearerType + ".");
        }

        if (string.IsNullOrEmpty(assertion) || assertion.Length > MaxLength || !_handler.CanReadToken(assertion))
        {
            return Fail("client_assertion is not a JWT.");
        }

        JsonWebToken jwt;
        try
        {
            jwt = _handler.ReadJsonWebToken(assertion);
        }
        catch (ArgumentException)
        {
            return Fail("client_assertion is not a JWT.");
        }

        // RFC 7523 §3 item 9 and RFC 8725 §3.1: the server decides which algorithms it trusts; none and HMAC are refused.
        if (!ClientAuthenticationMethods.AssertionAlgorithms.Contains(jwt.Alg))
        {
            return Fail($"The assertion's alg must be one of {string.Join(", ", ClientAuthenticationMethods.AssertionAlgorithms)}.");
        }

        // RFC 7523 §3 items 1 and 2: for client authentication iss and sub are both the client_id.
        var issuer = jwt.Issuer;
        if (string.IsNullOrEmpty(issuer) || issuer.Length > 100 || jwt.Subject != issuer)
        {
            return Fail("The assertion's iss and sub must both be the client_id.");
        }

        if (clientId is not null && clientId != issuer)
        {
            return Fail("client_id does not match the assertion's iss and sub.");
        }

        var client = await clients.FindAsync(issuer, cancellationToken);
        if (client is null || !client.Enabled || !client.IsConfidential
            || client.Settings.TokenEndpointAuthMethod != ClientAuthenticationMethods.PrivateKeyJwt)
        {
            return Fail("Client authentication failed.", client);
        }

        var signatureProblem = await CheckSignatureAsync(assertion, client, jwt, cancellationToken);
        if (signatureProblem is not null)
        {
            return Fail(signatureProblem, client);
        }

        var audienceProblem = CheckAudience(jwt, endpointPath);
        if (audienceProblem is not null)
        {
            return Fail(audienceProblem, client);
        }

        var (expiresAt, timeProblem) = CheckTimes(jwt);
        if (timeProblem is not null)
        {
            return Fail(timeProblem, client);
        }

        // RFC 7523 §3 item 7: jti, kept until the assertion expires (plus the skew a clock may add).
        if (!jwt.TryGetPayloadValue<string>("jti", out var jti) || string.IsNullOrEmpty(jti) || jti.Length > 200)
        {
            return Fail("The assertion needs a jti.", client);
        }

        if (!await used.TryRecordAsync(client.ClientId, jti, expiresAt + options.ClockSkew, cancellationToken))
        {
            return Fail("The assertion was already used (jti replay).", client);
        }

        return new ClientAssertionResult(client, null);
    }

    private async Task<string?> CheckSignatureAsync(string assertion, ClientDescriptor client, JsonWebToken jwt, CancellationToken cancellationToken)
    {
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = client.ClientId,
            ValidAlgorithms = [.. ClientAuthenticationMethods.AssertionAlgorithms],
            ValidateAudience = false, // checked below: a single value, from a short list
            ValidateLifetime = false, // checked below against the server's clock
            RequireExpirationTime = false, // likewise: CheckTimes says which time is wrong
            RequireSignedTokens = true,
            TryAllIssuerSigningKeys = true,
        };

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var candidates = await keys.GetKeysAsync(client, refresh: attempt > 0, cancellationToken);
            var matching = string.IsNullOrEmpty(jwt.Kid) ? candidates : candidates.Where(k => k.Kid == jwt.Kid).ToList();
            if (matching.Count == 0)
            {
                // An unknown kid: the client may have rotated its keys since they were fetched (jwks_uri only).
                if (attempt == 0 && client.Settings.JwksUri is not null)
                {
                    continue;
                }

                return candidates.Count == 0 ? "The client's keys are not available." : "No registered key has the assertion's kid.";
            }

            parameters.IssuerSigningKeys = matching;
            var result = await _handler.ValidateTokenAsync(assertion, parameters);
            return result.IsValid ? null : "The assertion's signature does not verify with the client's keys.";
        }

        return "No registered key has the assertion's kid.";
    }

    /// <summary>
    /// RFC 7523 §3 item 3: the server must find itself in aud. One value only (see
    /// <see cref="ClientAssertionOptions.IssuerAudienceOnly"/> for which), compared as exact strings (RFC 3986 §6.2.1).
    /// </summary>
    private string? CheckAudience(JsonWebToken jwt, string endpointPath)
    {
        var audiences = jwt.Audiences.ToList();
        if (audiences.Count != 1)
        {
            return "The assertion's aud must be this server's issuer identifier, alone.";
        }

        var audience = audiences[0];
        if (audience == protocol.Issuer)
        {
            return null;
        }

        var endpointAccepted = !options.IssuerAudienceOnly
            && (audience == DiscoveryDocument.EndpointUrl(protocol, EndpointPaths.Token) || audience == DiscoveryDocument.EndpointUrl(protocol, endpointPath));
        return endpointAccepted ? null : "The assertion's aud is not this server's issuer identifier.";
    }

    /// <summary>RFC 7523 §3 items 4 to 6: exp required and in the future, nbf and iat not in the future; and a short life.</summary>
    private (DateTimeOffset ExpiresAt, string? Problem) CheckTimes(JsonWebToken jwt)
    {
        var now = time.GetUtcNow();
        if (!jwt.TryGetPayloadValue<long>("exp", out var exp))
        {
            return (default, "The assertion needs exp.");
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(exp, 0, 253402300799));
        if (expiresAt + options.ClockSkew <= now)
        {
            return (expiresAt, "The assertion has expired.");
        }

        if (jwt.TryGetPayloadValue<long>("nbf", out var nbf) && DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(nbf, 0, 253402300799)) > now + options.ClockSkew)
        {
            return (expiresAt, "The assertion is not valid yet (nbf).");
        }

        var issuedAt = now;
        if (jwt.TryGetPayloadValue<long>("iat", out var iat))
        {
            issuedAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(iat, 0, 253402300799));
            if (issuedAt > now + options.ClockSkew)
            {
                return (expiresAt, "The assertion is issued in the future (iat).");
            }
        }

        // Without a bound the replay set would have to remember a jti for as long as the client chose.
        if (expiresAt - issuedAt > options.MaxLifetime || expiresAt - now > options.MaxLifetime + options.ClockSkew)
        {
            return (expiresAt, $"The assertion may live at most {options.MaxLifetime.TotalSeconds:0} seconds.");
        }

        return (expiresAt, null);
    }

    /// <summary>A refusal; <paramref name="client"/> (when known) is named in the log, never in the answer.</summary>
    private static ClientAssertionResult Fail(string problem, ClientDescriptor? client = null) => new(null, problem, client?.ClientId);
}
