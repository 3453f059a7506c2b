using IdentityServer.Clients;
using IdentityServer.Hosting;

namespace IdentityServer.Protocol;

/// <summary>
/// A request to an endpoint that a client calls with its own credentials (token, introspection, revocation), past the
/// shared front (<see cref="ClientAuthenticationFilter"/>): the authenticated client and the form parameters.
/// </summary>
public sealed class ClientRequest(HttpContext context)
{
    /// <summary>What the front found, kept on the request for the handler.</summary>
    internal sealed record Authenticated(ClientDescriptor Client, OAuthParameters Parameters);

    // Minimal APIs bind a handler's parameters before its endpoint filters run, so the bound value only points at the
    // request; the front's result is read when the handler, which runs after the front, first asks for it.
    private Authenticated Front => context.Features.Get<Authenticated>()
        ?? throw new InvalidOperationException("The endpoint is not behind the client authentication front (RequireClientAuthentication).");

    public ClientDescriptor Client => Front.Client;

    public OAuthParameters Parameters => Front.Parameters;

    public CancellationToken Aborted => context.RequestAborted;

    public static ValueTask<ClientRequest?> BindAsync(HttpContext context) => ValueTask.FromResult<ClientRequest?>(new(context));
}

/// <summary>
/// The shared front of the client-authenticated endpoints, written once: the body must be a form (RFC 6749 §3.2,
/// RFC 7009 §2.1, RFC 7662 §2.1), no parameter may be repeated (RFC 6749 §3.1, §3.2), and the client must authenticate
/// (§2.3), within its rate limit. Any failure is answered here with the OAuth error JSON; the endpoint runs only for an
/// authenticated client.
/// </summary>
public sealed class ClientAuthenticationFilter(
    ClientAuthenticator authenticator,
    ClientRateLimiter clientLimits,
    ITokenEndpointRateLimits limitAnswers,
    ILogger<ClientAuthenticationFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var parameters = await OAuthParameters.ReadAsync(http.Request, http.RequestAborted);
        if (parameters.NotAForm)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, parameters.FormProblem).ToJson();
        }

        if (parameters.Duplicate is { } duplicate)
        {
            return new OAuthError(OAuthErrors.InvalidRequest, $"The {duplicate} parameter is repeated.").ToJson();
        }

        var authentication = await authenticator.AuthenticateAsync(http.Request, parameters, http.RequestAborted);
        if (authentication.Client is not { } client)
        {
            return authentication.ErrorResult();
        }

        // Counted only now, so that naming a client without its credentials never spends that client's budget.
        if (!clientLimits.TryAcquire(client.ClientId, out var retryAfter))
        {
            logger.LogWarning("Rate limit: refused {Path} for client {ClientId}; retry after {Seconds} s", http.Request.Path.Value, client.ClientId, retryAfter);
            http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return limitAnswers.TooManyRequests(retryAfter);
        }

        http.Features.Set(new ClientRequest.Authenticated(client, parameters));
        return await next(context);
    }
}

public static class ClientEndpointExtensions
{
    /// <summary>Puts an endpoint behind the shared front; its handler takes a <see cref="ClientRequest"/>.</summary>
    public static RouteHandlerBuilder RequireClientAuthentication(this RouteHandlerBuilder endpoint) =>
        endpoint.AddEndpointFilter<ClientAuthenticationFilter>();
}
