using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace IdentityServer.Hosting.Email;

/// <summary>Sends one message through the configured SMTP server (MailKit): a connection per message.</summary>
public sealed class SmtpEmailSender(EmailOptions options)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Sends the message; the caller has checked that its recipient is one plain address (<see cref="EmailOptions.IsPlainAddress"/>).</summary>
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var mime = Compose(message);
        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds };
        var security = options.Security switch
        {
            SmtpSecurity.None => SecureSocketOptions.None,
            SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.StartTls,
        };
        await client.ConnectAsync(options.Host!, options.EffectivePort, security, cancellationToken);
        if (!string.IsNullOrEmpty(options.UserName))
        {
            await client.AuthenticateAsync(options.UserName, options.Password ?? "", cancellationToken);
        }

        await client.SendAsync(mime, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    private MimeMessage Compose(EmailMessage message)
    {
        var mime = new MimeMessage();
        mime.From.Add(new MailboxAddress(options.FromName ?? "", options.From!));
        mime.To.Add(MailboxAddress.Parse(message.To));
        mime.Subject = message.Subject;
        mime.Body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody }.ToMessageBody();
        return mime;
    }
}
