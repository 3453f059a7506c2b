using System.Globalization;
using IdentityServer.Clients;
using IdentityServer.Data;
using Npgsql;

namespace IdentityServer.Tokens;

/// <summary>
/// PostgreSQL only: one dedicated connection (outside the pool, named <see cref="ApplicationName"/> in
/// pg_stat_activity) that LISTENs on <see cref="RevocationNotices.Channel"/> and drops what each notice names from this
/// instance's caches. The <see cref="RevocationCache"/> is trusted only while this holds: after LISTEN it clears the
/// cache (notices sent while it was away are lost) and marks it subscribed; every heartbeat without notices it proves
/// the connection alive with a round trip; when the connection fails it marks the cache unsubscribed (the database
/// answers every check) and connects again after <see cref="RevocationCacheOptions.ReconnectDelay"/>.
/// </summary>
public sealed class RevocationListener(DatabaseOptions database, RevocationCache cache, ClientStore clients, RevocationCacheOptions options,
    ILogger<RevocationListener> logger) : BackgroundService
{
    /// <summary>The connection's application_name: one per process, so an operator (or a test) can find it.</summary>
    public static string ApplicationName => "identityserver-revocations-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (cache.Mode != RevocationCacheMode.Push || string.IsNullOrWhiteSpace(database.ConnectionString))
        {
            return;
        }

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(() => failures = 0, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                failures++;
                // The first failure is worth a warning; a database that stays down would otherwise log one every second.
                logger.Log(failures == 1 ? LogLevel.Warning : LogLevel.Debug,
                    "Revocation notifications lost ({Reason}); introspection reads the database until they are back", e.Message);
            }
            finally
            {
                cache.Unsubscribed();
            }

            try
            {
                await Task.Delay(options.ReconnectDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task ListenAsync(Action subscribed, CancellationToken stoppingToken)
    {
        var heartbeat = options.HeartbeatInterval > TimeSpan.Zero ? options.HeartbeatInterval : TimeSpan.FromSeconds(5);
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Pooling = false, // held for the life of the process, and LISTEN is session state no pooled connection may carry
            ApplicationName = ApplicationName,
            // A round trip that takes longer than a heartbeat means the connection is no longer to be trusted.
            CommandTimeout = Math.Max(1, (int)Math.Ceiling(heartbeat.TotalSeconds)),
            TcpKeepAlive = true,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        connection.Notification += (_, e) => RevocationNotices.Apply(cache, clients, RevocationNotices.Parse(e.Payload));
        await connection.OpenAsync(stoppingToken);
        await using (var listen = new NpgsqlCommand("LISTEN " + RevocationNotices.Channel, connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        cache.Subscribed();
        subscribed();
        logger.LogInformation("Subscribed to revocation notifications (backend {Pid})", connection.ProcessID);
        while (true)
        {
            if (!await connection.WaitAsync(heartbeat, stoppingToken))
            {
                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync(stoppingToken);
            }

            cache.Confirmed();
        }
    }
}
