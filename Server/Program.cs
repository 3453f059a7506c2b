using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Protocol;
using IdentityServer.Tokens;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddServerConfiguration();
    builder.AddObservability();
    builder.Services.AddIdentityDatabase(builder.Configuration);
    builder.AddTokens();
    builder.AddProtocol();

    var app = builder.Build();
    app.UseCorrelationId();
    app.MapHealth();
    app.MapProtocol();
    await app.RunAsync();
    return 0;
}
catch (StartupConfigurationException e)
{
    // One clear line naming the setting, not a stack trace.
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

/// <summary>The entry point; public so the test host can find it.</summary>
public partial class Program;
