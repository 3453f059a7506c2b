using System.Threading.Channels;

namespace IdentityServer.Accounts.Sessions;

/// <summary>A session (or every session of a person) ended; the apps that took part are told.</summary>
public sealed record LogoutNotice(string Subject, string? SessionId, IReadOnlyList<string> ApplicationIds);

/// <summary>
/// Queues back-channel logout notices (OpenID Connect Back-Channel Logout 1.0). Queueing never blocks the person who
/// signs out; the protocol's LogoutDelivery reads <see cref="Reader"/> and sends them in the background.
/// </summary>
public sealed class LogoutNotifier
{
    private readonly Channel<LogoutNotice> _queue = Channel.CreateBounded<LogoutNotice>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
    });

    public ChannelReader<LogoutNotice> Reader => _queue.Reader;

    public void SessionEnded(string subject, string sessionId, IReadOnlyList<string> applicationIds)
    {
        if (applicationIds.Count > 0)
        {
            _queue.Writer.TryWrite(new LogoutNotice(subject, sessionId, applicationIds));
        }
    }

    public void SubjectSignedOut(string subject, IReadOnlyList<string> applicationIds)
    {
        if (applicationIds.Count > 0)
        {
            _queue.Writer.TryWrite(new LogoutNotice(subject, null, applicationIds));
        }
    }
}
