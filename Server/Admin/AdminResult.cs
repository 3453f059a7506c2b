using IdentityServer.Clients;

namespace IdentityServer.Admin;

public enum AdminOutcome
{
    Ok,
    NotFound,
    Invalid,
    Conflict,
}

/// <summary>The outcome of an admin operation: a value, or why not (an RFC 7591-shaped error for Invalid and Conflict).</summary>
public sealed record AdminResult<T>(AdminOutcome Outcome, T? Value, ClientMetadataError? Error);

public static class AdminResult
{
    public static AdminResult<T> Ok<T>(T value) => new(AdminOutcome.Ok, value, null);
    public static AdminResult<T> NotFound<T>() => new(AdminOutcome.NotFound, default, null);
    public static AdminResult<T> Invalid<T>(ClientMetadataError error) => new(AdminOutcome.Invalid, default, error);
    public static AdminResult<T> Conflict<T>(ClientMetadataError error) => new(AdminOutcome.Conflict, default, error);
}
