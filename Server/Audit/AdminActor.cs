using System.Security.Claims;

namespace IdentityServer.Audit;

/// <summary>Who makes an admin change: a signed-in admin, the command line, configuration, or a registration token.</summary>
public sealed record AdminActor(string Id, string? Name)
{
    /// <summary>Configuration seeding at start.</summary>
    public static readonly AdminActor Configuration = new("configuration", null);

    /// <summary>The command line, named after the operating-system account that ran it.</summary>
    public static AdminActor CommandLine => new("cli:" + Environment.UserName, Environment.UserName);

    /// <summary>Dynamic client registration (RFC 7591) with one initial access token.</summary>
    public static AdminActor Registration(string initialAccessTokenId) => new("registration:" + initialAccessTokenId, null);

    /// <summary>The admin behind a request: the cookie session's user, or the subject of an admin access token.</summary>
    public static AdminActor From(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var id = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("The admin principal has no user id.");
        return new AdminActor(id, user.Identity?.Name);
    }
}
