namespace IdentityServer.Accounts.Federation;

/// <summary>Why an upstream sign-in failed, in words the person can act on (see <see cref="ExternalFailure"/>).</summary>
public enum ExternalFailureReason
{
    /// <summary>The person said no at the provider (RFC 6749 §4.1.2.1 <c>access_denied</c>).</summary>
    Cancelled,
    /// <summary>The provider answered with an error, or with an error status.</summary>
    ProviderError,
    /// <summary>The provider could not be reached, or the connection broke.</summary>
    Unreachable,
    /// <summary>The provider's answer did not have the documented shape.</summary>
    Malformed,
    /// <summary>The state did not come back intact, or not to the browser that started (RFC 6749 §10.12).</summary>
    InvalidState,
}

/// <summary>A failure while reading the provider's user information, with its reason.</summary>
public sealed class ExternalProviderException(ExternalFailureReason reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public ExternalFailureReason Reason { get; } = reason;
}
