namespace IdentityServer.Hosting.Email;

/// <summary>
/// One message to one recipient: a plain-text body and a simple HTML one. <see cref="Kind"/>, <see cref="UserId"/> and
/// <see cref="CorrelationId"/> are what the logs say about it; the bodies (which may hold a link with a token) and the
/// address never reach a log.
/// </summary>
public sealed record EmailMessage(string To, string Subject, string TextBody, string HtmlBody)
{
    /// <summary>What the message is, for the logs: <c>password_reset</c>, <c>email_verification</c> ...</summary>
    public string Kind { get; init; } = "message";

    public string? UserId { get; init; }

    /// <summary>The correlation id of the request that asked for it (Hosting/CorrelationId).</summary>
    public string? CorrelationId { get; init; }
}
