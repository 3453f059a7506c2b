namespace IdentityServer.Hosting;

/// <summary>At most <see cref="PermitLimit"/> requests per <see cref="Window"/> (a fixed window) for one partition: a client, or an address.</summary>
public sealed class RateLimitRule
{
    public int PermitLimit { get; set; }
    public TimeSpan Window { get; set; }
}

/// <summary>
/// Settings of the rate limits (section <c>RateLimits</c>). The defaults let a busy deployment's legitimate machine
/// traffic through (the benchmark drives thousands of token requests a second for one client from one address) and stop
/// password guessing: sign-in and registration POSTs are few per address.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    public bool Enabled { get; set; } = true;

    /// <summary>Token, introspection and revocation requests per client_id (all three together).</summary>
    public RateLimitRule TokenEndpointsPerClient { get; set; } = new() { PermitLimit = 20_000, Window = TimeSpan.FromSeconds(1) };

    /// <summary>Token, introspection and revocation requests per client address, whatever the client.</summary>
    public RateLimitRule TokenEndpointsPerAddress { get; set; } = new() { PermitLimit = 20_000, Window = TimeSpan.FromSeconds(1) };

    /// <summary>Authorization requests (GET and POST) per client address.</summary>
    public RateLimitRule AuthorizePerAddress { get; set; } = new() { PermitLimit = 20_000, Window = TimeSpan.FromSeconds(1) };

    /// <summary>Sign-in and registration form POSTs per client address: the brake on password guessing across accounts.</summary>
    public RateLimitRule SignInPerAddress { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) };

    /// <summary>POSTs of the forms that send email (forgot password, resend verification, email change) per client address.</summary>
    public RateLimitRule AccountEmailPerAddress { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(15) };

    /// <summary>Reads and checks the section; a bad value stops startup with a message naming the setting.</summary>
    public static RateLimitOptions Read(IConfiguration configuration)
    {
        var options = configuration.BindSetting<RateLimitOptions>(Section);
        Check(options.TokenEndpointsPerClient, nameof(TokenEndpointsPerClient));
        Check(options.TokenEndpointsPerAddress, nameof(TokenEndpointsPerAddress));
        Check(options.AuthorizePerAddress, nameof(AuthorizePerAddress));
        Check(options.SignInPerAddress, nameof(SignInPerAddress));
        Check(options.AccountEmailPerAddress, nameof(AccountEmailPerAddress));
        return options;
    }

    private static void Check(RateLimitRule rule, string name)
    {
        if (rule.PermitLimit < 1)
        {
            throw new StartupConfigurationException($"{Section}:{name}:{nameof(RateLimitRule.PermitLimit)}", $"{rule.PermitLimit} is not a positive number of requests.");
        }

        if (rule.Window <= TimeSpan.Zero)
        {
            throw new StartupConfigurationException($"{Section}:{name}:{nameof(RateLimitRule.Window)}", $"{rule.Window:c} is not a positive time span.");
        }
    }
}
