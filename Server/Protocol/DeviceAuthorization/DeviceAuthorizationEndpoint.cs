using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Tokens;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Protocol.DeviceAuthorization;

/// <summary>
/// The device authorization endpoint (RFC 8628 §3.1, §3.2): behind the shared front (a form, no repeated parameter,
/// the client authenticated; a public client by its client_id alone, §3.1), a client permitted the device grant asks
/// for scopes (and RFC 8707 resources) and gets a device_code to poll with and a user_code for the person to enter at
/// verification_uri.
/// </summary>
public static class DeviceAuthorizationEndpoint
{
    public static IEndpointRouteBuilder MapDeviceAuthorizationEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost(EndpointPaths.DeviceAuthorization, HandleAsync).RequireClientAuthentication()
            .DisableAntiforgery().RequireRateLimit(RateLimitScope.TokenEndpoints);
        return app;
    }

    private static async Task<IResult> HandleAsync(ClientRequest request, AuthorizationRequestValidator validator, AudienceResolver audiences,
        DeviceCodes devices, DeviceFlowOptions options, ServerOptions server, AuditLog audit, ILoggerFactory loggers)
    {
        var (client, parameters) = (request.Client, request.Parameters);
        if (!client.AllowsGrant(GrantTypes.DeviceCode))
        {
            // §3.1 and RFC 6749 §5.2: only clients permitted the device grant start one.
            return new OAuthError(OAuthErrors.UnauthorizedClient, "This client may not use the device authorization grant.").ToJson();
        }

        var (scopes, scopeError) = await validator.ValidateScopesAsync(client, parameters["scope"], request.Aborted);
        if (scopeError is not null)
        {
            return new OAuthError(OAuthErrors.InvalidScope, scopeError).ToJson();
        }

        var resources = parameters.All("resource");
        var (_, targetError) = await audiences.ResolveAsync(client, scopes, resources, request.Aborted);
        if (targetError is not null)
        {
            return new OAuthError(OAuthErrors.InvalidTarget, targetError).ToJson();
        }

        var interval = (int)options.PollingInterval.TotalSeconds;
        var issued = await devices.CreateAsync(client, scopes, resources, options.CodeLifetime, interval, request.Aborted);
        await audit.RecordTokenEventAsync(client.ClientId, "device_authorization.started", AuditOutcomes.Success, "client:" + client.ClientId,
            new { Scopes = scopes });
        loggers.CreateLogger(typeof(DeviceAuthorizationEndpoint).FullName!)
            .LogInformation("Device authorization started for client {ClientId}", client.ClientId);

        var verificationUri = DiscoveryDocument.EndpointUrl(server, EndpointPaths.DeviceVerification);
        var complete = QueryHelpers.AddQueryString(verificationUri, "user_code", issued.UserCode);
        var expiresIn = (long)Math.Round(options.CodeLifetime.TotalSeconds);
        return new OAuthJsonResult(StatusCodes.Status200OK, json =>
        {
            // §3.2: the response members; Cache-Control: no-store comes with every OAuthJsonResult.
            json.WriteString("device_code", issued.DeviceCode);
            json.WriteString("user_code", issued.UserCode);
            json.WriteString("verification_uri", verificationUri);
            json.WriteString("verification_uri_complete", complete);
            json.WriteNumber("expires_in", expiresIn);
            json.WriteNumber("interval", issued.Interval);
        });
    }
}
