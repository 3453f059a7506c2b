namespace IdentityServer.Hosting.Email;

/// <summary>
/// Sends what <see cref="EmailOutbox"/> holds, one message at a time, trying each up to <see cref="Attempts"/> times.
/// A message that fails every attempt, or is still queued when the server stops, is logged as an error with its kind,
/// user id and correlation id. At start it says in one line whether email is on, and which features are off without it.
/// </summary>
public sealed class EmailDelivery(EmailOutbox outbox, SmtpEmailSender sender, EmailOptions options, ILogger<EmailDelivery> logger) : BackgroundService
{
    public const int Attempts = 3;

    /// <summary>The waits before the second and third attempts.</summary>
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10)];

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Enabled)
        {
            logger.LogInformation("Email: sending through {Host}:{Port} ({Security}) from {From}", options.Host, options.EffectivePort, options.Security, options.From);
        }
        else
        {
            logger.LogInformation("Email: no SMTP server configured (Email:Host), so these are off: password reset by email, email verification, email change, security notices");
        }

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        outbox.Close();
        await base.StopAsync(cancellationToken);
        while (outbox.Reader.TryRead(out var left))
        {
            logger.LogError("Email {Kind} for user {UserId} NOT SENT: the server stopped before it could be sent (correlation {CorrelationId})",
                left.Kind, left.UserId, left.CorrelationId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled)
        {
            return;
        }

        // Ends once the outbox is closed and empty; while stopping, each queued message still gets one attempt.
        await foreach (var message in outbox.Reader.ReadAllAsync(CancellationToken.None))
        {
            await DeliverAsync(message, stoppingToken);
        }
    }

    private async Task DeliverAsync(EmailMessage message, CancellationToken stoppingToken)
    {
        if (!EmailOptions.IsPlainAddress(message.To))
        {
            // An address typed into a form must not add recipients or headers; no retry can send it.
            logger.LogError("Email {Kind} for user {UserId} NOT SENT: the recipient is not one plain address (correlation {CorrelationId})",
                message.Kind, message.UserId, message.CorrelationId);
            return;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await sender.SendAsync(message, CancellationToken.None);
                logger.LogInformation("Email {Kind} for user {UserId} sent (correlation {CorrelationId})", message.Kind, message.UserId, message.CorrelationId);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                if (attempt >= Attempts || stoppingToken.IsCancellationRequested)
                {
                    logger.LogError("Email {Kind} for user {UserId} NOT SENT after {Attempts} attempts (correlation {CorrelationId}): {Error}: {Reason}",
                        message.Kind, message.UserId, attempt, message.CorrelationId, e.GetType().Name, e.Message);
                    return;
                }

                logger.LogWarning("Email {Kind} for user {UserId}: attempt {Attempt} failed (correlation {CorrelationId}): {Error}: {Reason}",
                    message.Kind, message.UserId, attempt, message.CorrelationId, e.GetType().Name, e.Message);
            }

            try
            {
                await Task.Delay(Backoff[Math.Min(attempt - 1, Backoff.Length - 1)], stoppingToken);
            }
            catch (OperationCanceledException)
            {
                // Stopping: one more attempt now instead of waiting.
            }
        }
    }
}
