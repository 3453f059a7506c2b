using IdentityServer.Hosting;
using IdentityServer.Hosting.Email;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace IdentityServer.Tests.Accounts;

/// <summary>Without an SMTP server the pages say what is off; a half-configured sender stops startup naming the setting.</summary>
public sealed class NoEmailTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Without_an_smtp_server_reset_is_not_offered_and_registration_leaves_the_address_unverified()
    {
        using var browser = new BrowserSession(server);
        var login = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account/login"));
        Assert.Null(login.QuerySelector("a[href='/account/forgot-password']"));
        var forgot = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account/forgot-password"));
        Assert.Contains("does not send email", forgot.Body!.TextContent, StringComparison.Ordinal);
        Assert.Null(forgot.QuerySelector("form"));

        var userName = "nomail" + Guid.NewGuid().ToString("N")[..8];
        await browser.SubmitAsync(await browser.GetAsync("/account/register"), new()
        {
            ["UserName"] = userName,
            ["Email"] = userName + "@example.org",
            ["Password"] = TestData.Password,
            ["ConfirmPassword"] = TestData.Password,
        });
        Assert.False(await server.WithDatabaseAsync(db => db.Users.Where(u => u.UserName == userName).Select(u => u.EmailConfirmed).SingleAsync()));
        var email = await BrowserSession.ReadPageAsync(await browser.GetAsync("/account/email"));
        Assert.Contains("does not send email", email.Body!.TextContent, StringComparison.Ordinal);
        Assert.Null(email.QuerySelector("form#change"));
    }

    [Theory]
    [InlineData("Email:From=a@example.com", "Email:Host")]
    [InlineData("Email:Host=smtp.example.com", "Email:From")]
    [InlineData("Email:Host=smtp.example.com;Email:From=Someone <a@example.com>", "Email:From")]
    [InlineData("Email:Host=smtp.example.com;Email:From=a@example.com;Email:UserName=me", "Email:Password")]
    [InlineData("Email:Host=smtp.example.com;Email:From=a@example.com;Email:Password=secret", "Email:UserName")]
    [InlineData("Email:Host=smtp.example.com;Email:From=a@example.com;Email:Port=70000", "Email:Port")]
    [InlineData("Email:Host=smtp.example.com;Email:From=a@example.com;Email:Security=Maybe", "Email:Security")]
    [InlineData("Email:Host=smtp.example.com;Email:From=a@example.com;Email:UserName=me;Email:Password=secret;Email:Security=None", "Email:Security")]
    public void A_half_configured_sender_names_the_setting(string settings, string named)
    {
        var error = Assert.Throws<StartupConfigurationException>(() => EmailOptions.Read(Configuration(settings)));
        Assert.Equal(named, error.Setting);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_complete_sender_reads_with_its_port_from_the_security()
    {
        var options = EmailOptions.Read(Configuration("Email:Host=smtp.example.com;Email:From=a@example.com;Email:UserName=me;Email:Password=secret;Email:Security=SslOnConnect"));
        Assert.True(options.Enabled);
        Assert.Equal(465, options.EffectivePort);
        Assert.False(EmailOptions.Read(Configuration("")).Enabled);
        Assert.Equal(587, EmailOptions.Read(Configuration("Email:Host=smtp.example.com;Email:From=a@example.com")).EffectivePort);
    }

    private static IConfiguration Configuration(string settings) => new ConfigurationBuilder()
        .AddInMemoryCollection(settings.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Split('=', 2)).Select(p => KeyValuePair.Create(p[0], (string?)p[1])))
        .Build();
}
