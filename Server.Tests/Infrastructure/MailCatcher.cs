using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// A real SMTP server on a loopback port (the SmtpServer package) that keeps every message it receives, for tests that
/// read what the identity server sent: its sender is the real one (MailKit over TCP), nothing is mocked. Configure a host
/// with <see cref="Settings"/>.
/// </summary>
public sealed class MailCatcher : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<MimeMessage> _messages = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private int _disposed;

    public MailCatcher()
    {
        Port = KestrelServer.FreeLoopbackPort();
        var options = new SmtpServerOptionsBuilder()
            .ServerName("mail.test")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(this));
        _ = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
        WaitUntilListening();
    }

    public int Port { get; }

    /// <summary>The host settings that send through this server: plain SMTP on loopback, no login.</summary>
    public IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Email:Host"] = "127.0.0.1",
        ["Email:Port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Email:Security"] = "None",
        ["Email:From"] = "no-reply@id.test.example",
        ["Email:FromName"] = "Test identity",
    };

    /// <summary>Everything received so far.</summary>
    public IReadOnlyList<MimeMessage> Messages => [.. _messages];

    /// <summary>Every message received so far for <paramref name="address"/>.</summary>
    public IReadOnlyList<MimeMessage> To(string address) =>
        [.. _messages.Where(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, address, StringComparison.OrdinalIgnoreCase)))];

    /// <summary>Waits for a message to <paramref name="address"/> whose subject contains <paramref name="subject"/>.</summary>
    public async Task<MimeMessage> WaitForAsync(string address, string subject, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var found = To(address).FirstOrDefault(m => (m.Subject ?? "").Contains(subject, StringComparison.Ordinal));
            if (found is not null)
            {
                return found;
            }

            var left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, $"No message '{subject}' arrived for {address}; received: {string.Join(", ", _messages.Select(m => m.To + ": " + m.Subject))}");
            await _arrived.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>The first link in the plain-text body of the message that starts with <paramref name="prefix"/>.</summary>
    public static string LinkIn(MimeMessage message, string prefix)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = message.TextBody ?? "";
        var start = text.IndexOf(prefix, StringComparison.Ordinal);
        Assert.True(start >= 0, $"No link starting with {prefix} in:\n{text}");
        var end = text.IndexOfAny([' ', '\r', '\n'], start);
        return end < 0 ? text[start..] : text[start..end];
    }

    private void WaitUntilListening()
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException("The test SMTP server did not start listening.");
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stop.Cancel();
        _stop.Dispose();
        _arrived.Dispose();
    }

    private sealed class Store(MailCatcher catcher) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer,
            CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            catcher._messages.Enqueue(MimeMessage.Load(stream, cancellationToken));
            catcher._arrived.Release();
            return Task.FromResult(SmtpResponse.Ok);
        }
    }
}
