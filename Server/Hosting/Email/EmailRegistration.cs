namespace IdentityServer.Hosting.Email;

public static class EmailRegistration
{
    /// <summary>The SMTP sender (section <c>Email</c>), its outbox and the background delivery.</summary>
    public static WebApplicationBuilder AddEmail(this WebApplicationBuilder builder)
    {
        var options = EmailOptions.Read(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<SmtpEmailSender>();
        builder.Services.AddSingleton<EmailOutbox>();
        builder.Services.AddHostedService<EmailDelivery>();
        return builder;
    }
}
