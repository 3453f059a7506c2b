using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;

namespace IdentityServer.Hosting;

/// <summary>Which limits an endpoint is under; see <see cref="RateLimitOptions"/>.</summary>
public enum RateLimitScope
{
    /// <summary>Token, introspection, revocation: per client_id and per address.</summary>
    TokenEndpoints,

    /// <summary>The authorization endpoint: per address.</summary>
    Authorize,

    /// <summary>Sign-in and registration forms: their POSTs, per address.</summary>
    SignIn,

    /// <summary>Forms that send email (forgot password, resend verification, email change): their POSTs, per address.</summary>
    AccountEmail,
}

/// <summary>Puts an endpoint (or a Razor page) under the limits of <see cref="RateLimitScope"/>.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class RateLimitedAttribute(RateLimitScope scope) : Attribute
{
    public RateLimitScope Scope { get; } = scope;
}

/// <summary>
/// What the endpoints under <see cref="RateLimitScope.TokenEndpoints"/> add to their limits: they own their wire format.
/// The protocol, which maps them, registers it.
/// </summary>
public interface ITokenEndpointRateLimits
{
    /// <summary>The answer to a refused request, in the error shape the endpoints' clients already parse.</summary>
    IResult TooManyRequests(int retryAfterSeconds);
}

/// <summary>
/// ASP.NET Core's rate limiter with partitioned fixed windows per client address, before anything else is read. The
/// per-client budget of the token endpoints is <see cref="ClientRateLimiter"/>'s, counted once the client has
/// authenticated, so that nobody can spend another client's budget by sending its client_id. The address
/// is <c>Connection.RemoteIpAddress</c> after <c>UseForwardedHeaders</c> (trusted proxies only); IPv6 addresses count
/// per /64, which is what one subscriber usually holds. A refused request gets 429 with Retry-After: OAuth error JSON
/// from the token endpoints (<see cref="ITokenEndpointRateLimits"/>), a page for people.
/// </summary>
public static class RateLimiting
{
    private const string Unlimited = "";

    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        var options = RateLimitOptions.Read(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ClientRateLimiter>();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = ByAddress(options);
            limiter.OnRejected = (context, cancellationToken) => RejectAsync(context, options, cancellationToken);
        });
        return builder;
    }

    /// <summary>The limiter, after forwarded headers (the real client address) and before authentication (cheap refusals).</summary>
    public static IApplicationBuilder UseRateLimits(this IApplicationBuilder app)
    {
        if (!app.ApplicationServices.GetRequiredService<RateLimitOptions>().Enabled)
        {
            return app;
        }

        return app.UseRateLimiter();
    }

    /// <summary>Adds the endpoint to a rate-limit scope.</summary>
    public static TBuilder RequireRateLimit<TBuilder>(this TBuilder builder, RateLimitScope scope) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RateLimitedAttribute(scope));

    private static RateLimitScope? ScopeOf(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<RateLimitedAttribute>()?.Scope;

    private static PartitionedRateLimiter<HttpContext> ByAddress(RateLimitOptions options) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            var (rule, prefix) = ScopeOf(context) switch
            {
                RateLimitScope.TokenEndpoints => (options.TokenEndpointsPerAddress, "token:"),
                RateLimitScope.Authorize => (options.AuthorizePerAddress, "authorize:"),
                // Only the POSTs try a password (or create an account); showing the form costs nothing.
                RateLimitScope.SignIn when HttpMethods.IsPost(context.Request.Method) => (options.SignInPerAddress, "signin:"),
                // Each POST may send a message to an address somebody typed: few per address, so nobody floods a mailbox.
                RateLimitScope.AccountEmail when HttpMethods.IsPost(context.Request.Method) => (options.AccountEmailPerAddress, "email:"),
                _ => (null, null),
            };
            return rule is null
                ? RateLimitPartition.GetNoLimiter(Unlimited)
                : RateLimitPartition.GetFixedWindowLimiter(prefix + AddressOf(context), _ => Window(rule));
        });

    internal static FixedWindowRateLimiterOptions Window(RateLimitRule rule) => new()
    {
        PermitLimit = rule.PermitLimit,
        Window = rule.Window,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>The address a limit counts: IPv4 as is, IPv6 by its /64 prefix; "unknown" when the server has none (in-process hosts).</summary>
    internal static string AddressOf(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }

        return address.ToString();
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, RateLimitOptions options, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var scope = ScopeOf(context);
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.SignInPerAddress.Window;
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RateLimiting).FullName!)
            .LogWarning("Rate limit: refused {Method} {Path} from {Address} ({Scope}); retry after {Seconds} s",
                context.Request.Method, context.Request.Path.Value, AddressOf(context), scope, seconds);

        // RFC 6585 §4: 429 Too Many Requests, with Retry-After (RFC 9110 §10.2.3).
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        if (scope == RateLimitScope.TokenEndpoints && context.RequestServices.GetService<ITokenEndpointRateLimits>() is { } tokenEndpoints)
        {
            await tokenEndpoints.TooManyRequests(seconds).ExecuteAsync(context);
            return;
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        await response.WriteAsync(TooManyRequestsPage(seconds, CorrelationId.Get(context)), context.RequestAborted);
    }

    private static string TooManyRequestsPage(int seconds, string correlationId) =>
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts</title>"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/site.css\"></head>"
        + "<body><main class=\"card\"><h1>Too many attempts</h1>"
        + $"<p>There were too many requests from your network. Wait {seconds} seconds, then try again.</p>"
        + $"<p class=\"muted\">Reference: <code>{System.Text.Encodings.Web.HtmlEncoder.Default.Encode(correlationId)}</code></p>"
        + "</main></body></html>";
}
