using IdentityServer.Accounts.Sessions;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Protocol;

/// <summary>
/// Sends the logout notices of <see cref="LogoutNotifier"/> as OpenID Connect Back-Channel Logout 1.0 logout tokens
/// (§2.4: typ logout+jwt, iss, aud, iat, exp, jti, sub and/or sid, the events claim) to each client's
/// backchannel_logout_uri, with bounded retries and backoff; failures are logged, never thrown.
/// </summary>
public sealed class LogoutDelivery(
    LogoutNotifier notifier,
    IServiceScopeFactory scopes,
    IHttpClientFactory httpClients,
    JwtWriter writer,
    ServerOptions protocol,
    TimeProvider time,
    ILogger<LogoutDelivery> logger) : BackgroundService
{
    private const string LogoutEvent = "http://schemas.openid.net/event/backchannel-logout";
    private static readonly TimeSpan[] Backoff = [TimeSpan.Zero, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var notice in notifier.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
                    var applications = await db.Applications.AsNoTracking().Where(a => notice.ApplicationIds.Contains(a.Id)).ToListAsync(stoppingToken);
                    foreach (var client in applications.Select(ClientDescriptor.From))
                    {
                        if (client.Settings.BackchannelLogoutUri is { } uri && client.Enabled)
                        {
                            _ = DeliverAsync(client, uri, notice, stoppingToken);
                        }
                    }
                }
#pragma warning disable CA1031 // a notice that cannot be processed must not stop the delivery loop
                catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    logger.LogError(e, "Back-channel logout notice could not be processed for subject {Subject}", notice.Subject);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping, also when the server could not start (a busy port): an ordinary end, not a failed service
            // (which the host would log as critical).
        }
    }

    private async Task DeliverAsync(ClientDescriptor client, string uri, LogoutNotice notice, CancellationToken stoppingToken)
    {
        // The safe outbound client: public addresses only (checked at every connection), no redirects, short timeout.
        var http = httpClients.CreateClient(OutboundHttp.ClientName);
        for (var attempt = 0; attempt < Backoff.Length; attempt++)
        {
            try
            {
                if (Backoff[attempt] > TimeSpan.Zero)
                {
                    await Task.Delay(Backoff[attempt], time, stoppingToken);
                }

                using var content = new FormUrlEncodedContent([new("logout_token", CreateLogoutToken(client, notice))]);
                using var response = await http.PostAsync(new Uri(uri), content, stoppingToken);
                if (response.IsSuccessStatusCode)
                {
                    logger.LogInformation("Back-channel logout delivered to client {ClientId}", client.ClientId);
                    return;
                }

                logger.LogWarning("Back-channel logout to client {ClientId} answered {Status} (attempt {Attempt})", client.ClientId, (int)response.StatusCode, attempt + 1);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Back-channel logout to client {ClientId} failed: {Reason} (attempt {Attempt})", client.ClientId, e.Message, attempt + 1);
            }
        }

        logger.LogError("Back-channel logout to client {ClientId} gave up after {Attempts} attempts", client.ClientId, Backoff.Length);
    }

    private string CreateLogoutToken(ClientDescriptor client, LogoutNotice notice)
    {
        var now = time.GetUtcNow();
        return writer.Sign("logout+jwt", json =>
        {
            json.WriteString("iss", protocol.Issuer);
            json.WriteString("aud", client.ClientId);
            json.WriteNumber("iat", now.ToUnixTimeSeconds());
            json.WriteNumber("exp", now.AddMinutes(2).ToUnixTimeSeconds());
            json.WriteString("jti", OpaqueToken.NewId());
            json.WriteString("sub", notice.Subject);
            if (notice.SessionId is not null)
            {
                json.WriteString("sid", notice.SessionId);
            }

            json.WriteStartObject("events");
            json.WriteStartObject(LogoutEvent);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }
}

public static class BackchannelLogoutSetup
{
    /// <summary>Delivers the logout notices <see cref="LogoutNotifier"/> queues when sessions end.</summary>
    public static IServiceCollection AddBackchannelLogout(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHostedService<LogoutDelivery>();
        services.AddOutboundHttp(configuration);
        return services;
    }
}
