using System.Threading.Channels;

namespace IdentityServer.Hosting.Email;

/// <summary>
/// The queue between a request and the SMTP server: a page queues a message and answers at once, and
/// <see cref="EmailDelivery"/> sends it in the background, with retries. Nothing is dropped without a log line naming
/// the message's kind, user id and correlation id (never its address, body or link).
/// </summary>
public sealed class EmailOutbox(EmailOptions options, ILogger<EmailOutbox> logger)
{
    /// <summary>Messages waiting; past this the queue refuses (and logs) rather than grow without bound.</summary>
    public const int Capacity = 1000;

    private readonly Channel<EmailMessage> _queue = Channel.CreateBounded<EmailMessage>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    /// <summary>Whether an SMTP server is configured; without one, nothing is queued and the pages say what is off.</summary>
    public bool Enabled => options.Enabled;

    internal ChannelReader<EmailMessage> Reader => _queue.Reader;

    /// <summary>Queues the message; false (and an error in the log) when it cannot be: no SMTP server, a full queue, the server stopping.</summary>
    public bool Enqueue(EmailMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!Enabled)
        {
            logger.LogWarning("Email {Kind} for user {UserId} not sent: no SMTP server is configured (correlation {CorrelationId})",
                message.Kind, message.UserId, message.CorrelationId);
            return false;
        }

        if (!_queue.Writer.TryWrite(message))
        {
            logger.LogError("Email {Kind} for user {UserId} NOT SENT: the outbox is full or the server is stopping (correlation {CorrelationId})",
                message.Kind, message.UserId, message.CorrelationId);
            return false;
        }

        logger.LogInformation("Email {Kind} for user {UserId} queued (correlation {CorrelationId})", message.Kind, message.UserId, message.CorrelationId);
        return true;
    }

    /// <summary>Takes no more messages: the delivery drains what is queued and stops.</summary>
    internal void Close() => _queue.Writer.TryComplete();
}
