using System.Globalization;
using IdentityServer;
using IdentityServer.Accounts;
using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Hosting.Cli;
using IdentityServer.Hosting.Email;
using IdentityServer.Jobs;
using IdentityServer.Protocol;
using IdentityServer.Tokens;

// ICU is loaded for SqlClient (Server.csproj), but output never depends on the host's locale: formatting stays invariant.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;

try
{
    // Help and usage errors need no host: answered before building one, they work whatever the configuration.
    if (CommandLine.TryHelp(args, ServerCommands.All, Console.Out, Console.Error) is { } usageExitCode)
    {
        return usageExitCode;
    }

    // Settings change with a restart. Reloading them on change needs a recursive watcher on the content root, and the
    // SQLite database lives under it by default (data/): every committed write woke the watcher thread, about a tenth of
    // the CPU of a refresh-token rotation. A later --hostBuilder:reloadConfigOnChange=true on the command line wins.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = ["--hostBuilder:reloadConfigOnChange=false", .. args],
        WebRootPath = ConfigurationSetup.PublishedWebRoot(),
    });
    builder.AddServerConfiguration();
    builder.AddObservability();
    builder.AddTelemetry();
    builder.AddProxySupport();
    builder.AddRateLimits();
    builder.AddEmail();
    builder.AddBranding();
    builder.Services.AddUnhandledErrors();
    builder.Services.AddAuditLog();
    builder.Services.AddIdentityDatabase(builder.Configuration);
    builder.Services.AddClients(builder.Configuration);
    builder.AddTokens();
    builder.AddProtocol();
    builder.AddAccounts();
    builder.AddAdmin();
    builder.AddPruning();
    builder.Services.ReadKeyRingOnFirstUse();

    var app = builder.Build();
    if (await CommandLine.TryRunAsync(app, args) is { } exitCode)
    {
        return exitCode;
    }

    ConfigurationBinding.ReportUnknownKeys(app.Logger);

    app.UseForwardedHeaders();
    app.UseCorrelationId();
    app.UseExceptionHandler();
    app.UseDatabaseStartupGate();
    app.UseStatusPages();
    app.UseSecurityHeaders();
    if (!app.Environment.IsDevelopment())
    {
        app.UseHsts();
    }

    app.UseStaticFiles();
    app.UseCors();
    app.UseRateLimits();
    app.UseAuthentication();
    app.UseAuthorization();
    app.UseAntiforgery();
    app.MapHealth();
    app.MapMetrics();
    app.MapBranding();
    app.MapProtocol();
    app.MapAdmin();
    app.MapRazorPages();
    var databaseStartup = app.Services.GetRequiredService<DatabaseStartup>();
    var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
    try
    {
        await app.RunAsync();
    }
    catch (OperationCanceledException) when (databaseStartup.Failed)
    {
        // The database work failed while the server was still starting; it has said why.
    }
    catch (Exception e) when (!lifetime.ApplicationStarted.IsCancellationRequested)
    {
        // Kestrel could not bind, or the database work before listening failed (Database:StartInBackground=false): one
        // line, as for a configuration error. The host's own entry with the stack trace is left out (WithoutHostStartFailure).
        app.Logger.LogDebug(e, "The server could not start");
        await Console.Error.WriteLineAsync(databaseStartup.Failed ? StartupFailure.Database(e) : StartupFailure.Describe(e));
        return 1;
    }

    return databaseStartup.Failed ? 1 : 0;
}
catch (Exception e)
{
    // Whatever stops the start before the host runs (a configuration error names its setting): one line, never the
    // runtime's stack trace and exit code 134.
    await Console.Error.WriteLineAsync(StartupFailure.Describe(e));
    return 1;
}

/// <summary>The entry point; public so the test host can find it.</summary>
public partial class Program;
