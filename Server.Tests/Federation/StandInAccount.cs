using System.Security.Cryptography;

namespace IdentityServer.Tests.Federation;

/// <summary>What a stand-in provider does wrong for this account, to exercise the failure paths.</summary>
public enum StandInFailure
{
    None,
    /// <summary>The token endpoint answers with an OAuth error.</summary>
    TokenError,
    /// <summary>The token endpoint drops the connection (the provider is unreachable mid-flow).</summary>
    TokenConnectionDrop,
    /// <summary>The user endpoint answers JSON without the user's id.</summary>
    UserInfoMalformed,
    /// <summary>The user endpoint answers 500.</summary>
    UserInfoServerError,
}

/// <summary>A person's account at one of the stand-in providers. Every factory makes unique ids, names and emails.</summary>
public sealed class StandInAccount
{
    public required string Provider { get; init; }
    public required string Id { get; init; }
    public string? Login { get; init; }
    public string? Name { get; init; }
    /// <summary>The account's email (Google, Discord; GitHub's primary email; Microsoft's mail or sign-in name).</summary>
    public string? Email { get; init; }
    public bool EmailVerified { get; init; }
    /// <summary>GitHub: the public profile email of /user (null when the person keeps it private).</summary>
    public string? PublicEmail { get; init; }
    /// <summary>Google's picture URL, GitHub's avatar_url, or Discord's avatar hash.</summary>
    public string? Avatar { get; init; }
    /// <summary>Microsoft Graph: mail (null for many personal accounts) and userPrincipalName.</summary>
    public string? Mail { get; init; }
    public string? UserPrincipalName { get; init; }
    public StandInFailure Failure { get; init; }
    /// <summary>Google: the Workspace domain (<c>hd</c>), only for accounts of a Google Workspace organization.</summary>
    public string? HostedDomain { get; init; }
    /// <summary>GitHub: the status /user/emails answers instead of the list (403 when the token may not read emails).</summary>
    public int? EmailsStatus { get; init; }

    private static string Unique() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));

    private static string Digits(int count) => string.Concat(Enumerable.Range(0, count).Select(_ => RandomNumberGenerator.GetInt32(10)));

    /// <summary>A Google account: a Gmail address unless <paramref name="email"/> is given; <paramref name="hostedDomain"/> makes it a Workspace account.</summary>
    public static StandInAccount Google(string? email = null, bool verified = true, StandInFailure failure = StandInFailure.None, string? hostedDomain = null)
    {
        var unique = Unique();
        return new StandInAccount
        {
            Provider = "google",
            Id = "1" + Digits(20),
            Name = "Gail Google " + unique,
            Email = email ?? $"gail.{unique}@gmail.com",
            EmailVerified = verified,
            Avatar = $"https://lh3.googleusercontent.com/a/{unique}=s96-c",
            Failure = failure,
            HostedDomain = hostedDomain,
        };
    }

    /// <summary>A Google Workspace account whose address is of its organization's domain (Google is authoritative for it).</summary>
    public static StandInAccount GoogleWorkspace(string email) => Google(email, verified: true, hostedDomain: email[(email.LastIndexOf('@') + 1)..]);

    /// <summary>A GitHub user who keeps the email private: /user has email null (unless <paramref name="publicEmail"/>), /user/emails has it as primary.</summary>
    public static StandInAccount GitHubPrivateEmail(string? email = null, bool verified = true, StandInFailure failure = StandInFailure.None,
        string? publicEmail = null, int? emailsStatus = null)
    {
        var unique = Unique();
        var id = Digits(8).TrimStart('0') + "1";
        return new StandInAccount
        {
            Provider = "github",
            Id = id,
            Login = "octo-" + unique,
            Name = "Octo Cat " + unique,
            Email = email ?? $"octo.{unique}@example.org",
            EmailVerified = verified,
            PublicEmail = publicEmail,
            Avatar = $"https://avatars.githubusercontent.com/u/{id}?v=4",
            Failure = failure,
            EmailsStatus = emailsStatus,
        };
    }

    public static StandInAccount Discord(string? email = null, bool verified = true, StandInFailure failure = StandInFailure.None)
    {
        var unique = Unique();
        return new StandInAccount
        {
            Provider = "discord",
            Id = "8" + Digits(17),
            Login = "nelly_" + unique,
            Name = "Nelly " + unique,
            Email = email ?? $"nelly.{unique}@example.net",
            EmailVerified = verified,
            Avatar = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Failure = failure,
        };
    }

    /// <summary>A personal Microsoft account: a 16-hex-digit id, mail null, the sign-in address as userPrincipalName.</summary>
    public static StandInAccount MicrosoftPersonal(string? email = null, StandInFailure failure = StandInFailure.None)
    {
        var unique = Unique();
        var address = email ?? $"pat.{unique}@outlook.com";
        return new StandInAccount
        {
            Provider = "microsoft",
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Name = "Pat Personal " + unique,
            Email = address,
            Mail = null,
            UserPrincipalName = address,
            Failure = failure,
        };
    }

    /// <summary>A work account: a directory object id, mail set, a tenant userPrincipalName that differs from it.</summary>
    public static StandInAccount MicrosoftWork(string? email = null, StandInFailure failure = StandInFailure.None)
    {
        var unique = Unique();
        var mail = email ?? $"wendy.{unique}@contoso.com";
        return new StandInAccount
        {
            Provider = "microsoft",
            Id = Guid.NewGuid().ToString(),
            Name = "Wendy Work " + unique,
            Email = mail,
            Mail = mail,
            UserPrincipalName = $"wendy.{unique}@contoso.onmicrosoft.com",
            Failure = failure,
        };
    }
}
