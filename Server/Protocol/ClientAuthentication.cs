using System.Text;
using IdentityServer.Clients;
using IdentityServer.Protocol.ClientAssertions;

namespace IdentityServer.Protocol;

/// <summary>The outcome of authenticating the caller of the token, introspection or revocation endpoint.</summary>
public sealed record ClientAuthenticationResult(ClientDescriptor? Client, OAuthError? Error, bool UsedBasic)
{
    public IResult ErrorResult() => Error!.ToJson(
        Error.StatusCode == StatusCodes.Status401Unauthorized && UsedBasic ? "Basic realm=\"identity\"" : null);
}

/// <summary>
/// Client authentication (RFC 6749 §2.3): client_secret_basic and client_secret_post for confidential clients,
/// client_id alone for public clients. Secrets are compared in constant time against stored hashes. A client registered
/// for private_key_jwt authenticates with a signed assertion instead (<see cref="ClientAssertionValidator"/>), and only so.
/// </summary>
public sealed class ClientAuthenticator(ClientStore clients, ClientAssertionValidator assertions, TimeProvider time, ILogger<ClientAuthenticator> logger)
{
    public async Task<ClientAuthenticationResult> AuthenticateAsync(HttpRequest request, OAuthParameters parameters, CancellationToken cancellationToken)
    {
        var header = request.Headers.Authorization.ToString();
        var usedBasic = header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase);
        string? clientId = parameters["client_id"];
        var secret = parameters["client_secret"];

        if (parameters["client_assertion"] is not null || parameters["client_assertion_type"] is not null)
        {
            return await AuthenticateWithAssertionAsync(request, parameters, usedBasic, cancellationToken);
        }

        if (usedBasic)
        {
            if (secret is not null)
            {
                // §2.3: a client MUST NOT use more than one authentication method in each request.
                return Fail(OAuthErrors.InvalidRequest, "Use one client authentication method, not several.", StatusCodes.Status400BadRequest, usedBasic);
            }

            if (!TryParseBasic(header, out var basicId, out var basicSecret))
            {
                return Fail(OAuthErrors.InvalidClient, "The Basic credentials are malformed.", StatusCodes.Status401Unauthorized, usedBasic);
            }

            if (clientId is not null && clientId != basicId)
            {
                return Fail(OAuthErrors.InvalidClient, "client_id does not match the authenticated client.", StatusCodes.Status401Unauthorized, usedBasic);
            }

            clientId = basicId;
            secret = basicSecret;
        }

        if (string.IsNullOrEmpty(clientId) || clientId.Length > 100)
        {
            return Fail(OAuthErrors.InvalidClient, "Client authentication is required.", StatusCodes.Status401Unauthorized, usedBasic);
        }

        var client = await clients.FindAsync(clientId, cancellationToken);
        if (client is null || !client.Enabled)
        {
            logger.LogWarning("Client authentication failed: {Reason} (client {ClientId})", client is null ? "unknown client" : "client disabled", clientId);
            return Fail(OAuthErrors.InvalidClient, "Client authentication failed.", StatusCodes.Status401Unauthorized, usedBasic);
        }

        if (client.Settings.TokenEndpointAuthMethod == ClientAuthenticationMethods.PrivateKeyJwt)
        {
            // RFC 7591 §2: the client registered how it authenticates; a secret, even a right one, is not that way.
            logger.LogWarning("Client authentication failed: {Reason} (client {ClientId})", "private_key_jwt client sent no assertion", clientId);
            return Fail(OAuthErrors.InvalidClient, "This client authenticates with private_key_jwt (client_assertion).", StatusCodes.Status401Unauthorized, usedBasic);
        }

        if (client.IsConfidential)
        {
            if (string.IsNullOrEmpty(secret) || !ClientSecrets.Verify(client, secret, time.GetUtcNow().UtcDateTime))
            {
                logger.LogWarning("Client authentication failed: {Reason} (client {ClientId})", string.IsNullOrEmpty(secret) ? "no secret" : "wrong secret", clientId);
                return Fail(OAuthErrors.InvalidClient, "Client authentication failed.", StatusCodes.Status401Unauthorized, usedBasic);
            }
        }
        else if (!string.IsNullOrEmpty(secret))
        {
            logger.LogWarning("Client authentication failed: {Reason} (client {ClientId})", "public client sent a secret", clientId);
            return Fail(OAuthErrors.InvalidClient, "A public client has no secret.", StatusCodes.Status401Unauthorized, usedBasic);
        }

        return new ClientAuthenticationResult(client, null, usedBasic);
    }

    /// <summary>RFC 7521 §4.2 / RFC 7523 §2.2: client_assertion_type and client_assertion, and no other credentials.</summary>
    private async Task<ClientAuthenticationResult> AuthenticateWithAssertionAsync(HttpRequest request, OAuthParameters parameters, bool usedBasic,
        CancellationToken cancellationToken)
    {
        if (usedBasic || parameters["client_secret"] is not null)
        {
            // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in each request.
            return Fail(OAuthErrors.InvalidRequest, "Use one client authentication method, not several.", StatusCodes.Status400BadRequest, usedBasic);
        }

        var result = await assertions.ValidateAsync(parameters["client_assertion_type"], parameters["client_assertion"], parameters["client_id"],
            request.Path.Value ?? "", cancellationToken);
        if (result.Client is null)
        {
            logger.LogWarning("Client authentication failed: {Reason} (client {ClientId})", result.Problem, result.ClientId ?? "unknown");
            return Fail(OAuthErrors.InvalidClient, result.Problem ?? "Client authentication failed.", StatusCodes.Status401Unauthorized, usedBasic);
        }

        return new ClientAuthenticationResult(result.Client, null, usedBasic);
    }

    private static ClientAuthenticationResult Fail(string error, string description, int status, bool usedBasic) =>
        new(null, new OAuthError(error, description, status), usedBasic);

    /// <summary>§2.3.1: client_id and secret are form-urlencoded before being joined with ':' and base64-encoded.</summary>
    private static bool TryParseBasic(string header, out string clientId, out string secret)
    {
        clientId = secret = "";
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return false;
            }

            clientId = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
            secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
