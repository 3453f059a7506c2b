using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Tokens;

namespace IdentityServer.Tests.Tokens;

/// <summary>The one place where refresh-token expiry and the reuse leeway are computed (TokenLifetimes).</summary>
public sealed class TokenLifetimesTests
{
    private static readonly DateTime Now = new(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);

    private static TokenLifetimes Lifetimes(TimeSpan leeway = default) =>
        new(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), TimeSpan.FromDays(14), TimeSpan.FromDays(90), leeway);

    [Fact]
    public void A_refresh_token_slides_from_its_use_but_never_past_its_family_end()
    {
        var lifetimes = Lifetimes();
        Assert.Equal(Now.AddDays(14), lifetimes.RefreshTokenExpiry(Now, familyEnd: Now.AddDays(90)));
        Assert.Equal(Now.AddDays(3), lifetimes.RefreshTokenExpiry(Now, familyEnd: Now.AddDays(3)));
        // A family from before the absolute cap existed has no end: the sliding lifetime alone applies.
        Assert.Equal(Now.AddDays(14), lifetimes.RefreshTokenExpiry(Now, familyEnd: null));
        Assert.Equal(Now.AddDays(90), lifetimes.FamilyEnd(Now));
    }

    [Fact]
    public void Only_a_token_redeemed_within_a_nonzero_leeway_is_tolerated()
    {
        var redeemed = Token(Statuses.Redeemed, Now.AddSeconds(-5));
        Assert.False(Lifetimes().WithinReuseLeeway(redeemed, Now));
        Assert.True(Lifetimes(TimeSpan.FromSeconds(10)).WithinReuseLeeway(redeemed, Now));
        Assert.False(Lifetimes(TimeSpan.FromSeconds(5)).WithinReuseLeeway(redeemed, Now));
        var valid = Token(Statuses.Valid, redeemedAt: null);
        Assert.False(Lifetimes(TimeSpan.FromSeconds(10)).WithinReuseLeeway(valid, Now));
    }

    [Fact]
    public void A_client_setting_overrides_the_server_default_and_the_leeway_stays_server_wide()
    {
        var client = ClientDescriptor.From(new OAuthApplication
        {
            ClientId = "app",
            ClientType = ClientTypes.Public,
            ConsentType = ConsentTypes.Implicit,
            DisplayName = "App",
            Settings = """{"refreshTokenSlidingLifetime":"1.00:00:00"}""",
        });
        var lifetimes = TokenLifetimes.For(client, new TokenOptions { RefreshTokenReuseLeeway = TimeSpan.FromSeconds(3) });
        Assert.Equal(TimeSpan.FromDays(1), lifetimes.RefreshTokenSliding);
        Assert.Equal(new TokenOptions().RefreshTokenAbsoluteLifetime, lifetimes.RefreshTokenAbsolute);
        Assert.Equal(TimeSpan.FromSeconds(3), lifetimes.RefreshTokenReuseLeeway);
    }

    private static OAuthToken Token(string status, DateTime? redeemedAt) => new()
    {
        ApplicationId = "app",
        Subject = "alice",
        Type = TokenTypes.RefreshToken,
        Status = status,
        ReferenceId = "reference",
        RedemptionDate = redeemedAt,
    };
}
