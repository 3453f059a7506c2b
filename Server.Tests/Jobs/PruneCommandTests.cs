using System.Diagnostics;
using IdentityServer.Data;
using IdentityServer.Tests.Foundation;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Tests.Jobs;

/// <summary>
/// <c>prune</c> on the command line of the built server: one run against the configured database, a summary on stdout,
/// exit code 0; a run that cannot reach its tables fails with exit code 1 and one line on stderr.
/// </summary>
public sealed class PruneCommandTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _folder = Directory.CreateTempSubdirectory("idsrv-prune-cli-").FullName;

    [Fact]
    public async Task Prune_deletes_the_dead_rows_prints_what_it_did_and_exits_0()
    {
        var connectionString = $"Data Source={Path.Combine(_folder, "identity.db")};Pooling=False";
        var now = DateTime.UtcNow;
        var (dead, live) = ("dead-" + Guid.NewGuid().ToString("N"), "live-" + Guid.NewGuid().ToString("N"));
        await using (var db = Context(connectionString))
        {
            await db.Database.MigrateAsync();
            var app = new OAuthApplication { ClientId = "cli", ClientType = ClientTypes.Public, ConsentType = ConsentTypes.Implicit, DisplayName = "cli" };
            db.Applications.Add(app);
            db.Tokens.Add(Token(dead, app.Id, created: now.AddDays(-30), expires: now.AddDays(-29)));
            db.Tokens.Add(Token(live, app.Id, created: now.AddDays(-30), expires: now.AddDays(1)));
            await db.SaveChangesAsync();
        }

        var (exitCode, stdout, stderr) = await RunAsync("prune", $"--Database:ConnectionString={connectionString}");

        Assert.True(exitCode == 0, $"exit code {exitCode}; stderr: {stderr}; stdout: {stdout}");
        Assert.Contains("Pruned: 1 tokens, 0 authorizations", stdout, StringComparison.Ordinal);
        await using (var db = Context(connectionString))
        {
            Assert.Equal([live], await db.Tokens.Select(t => t.Id).ToListAsync());
        }
    }

    [Fact]
    public async Task Prune_without_the_tables_fails_with_one_line_and_exit_code_1()
    {
        var connectionString = $"Data Source={Path.Combine(_folder, "empty.db")};Pooling=False";

        // Without the migrations the command line would otherwise apply first.
        var (exitCode, stdout, stderr) = await RunAsync("prune", $"--Database:ConnectionString={connectionString}", "--Database:MigrateOnStart=false");

        Assert.True(exitCode == 1, $"exit code {exitCode}; stderr: {stderr}; stdout: {stdout}");
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("Pruning failed: ", line, StringComparison.Ordinal);
    }

    private async Task<(int? ExitCode, string Stdout, string Stderr)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost)
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServerProcess.ServerAssembly);
        foreach (var argument in arguments.Concat([
            "--Database:Provider=Sqlite",
            $"--Signing:DevelopmentKeyPath={Path.Combine(_folder, "key.pem")}",
            // Only this run's lines: the console logs of the host go to stdout too, and not in this test's way.
            "--Logging:LogLevel:Default=None",
        ]))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.Contains("__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (null, await stdout, await stderr);
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static IdentityDbContext Context(string connectionString)
    {
        var builder = new DbContextOptionsBuilder<IdentityDbContext>();
        DatabaseRegistration.ProviderConfiguration(new DatabaseOptions { Provider = DatabaseProviders.Sqlite, ConnectionString = connectionString })(builder);
        builder.ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.PendingModelChangesWarning));
        return new IdentityDbContext(builder.Options);
    }

    private static OAuthToken Token(string id, string applicationId, DateTime created, DateTime expires) => new()
    {
        Id = id,
        ApplicationId = applicationId,
        Subject = "someone",
        Type = TokenTypes.RefreshToken,
        Status = Statuses.Valid,
        ReferenceId = id,
        CreationDate = created,
        ExpirationDate = expires,
    };

    /// <summary>The dotnet host running these tests (DOTNET_HOST_PATH is set by the SDK), else the one on PATH.</summary>
    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
