using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace IdentityServer.Tests.Interop;

/// <summary>
/// The Node.js relying party beside this file (relying-party.mjs), run as a separate process against a server on a
/// loopback port. The interop packages (also the SPA's oidc-client-ts) come from the committed package-lock.json:
/// <c>npm ci</c> installs them on first use, so the README's test command needs nothing more than Node.js 20 or later
/// and the npm registry.
/// </summary>
internal static class RelyingPartyScript
{
    // Checked and installed once per test run, whichever interop test comes first; a failure fails every one of them alike.
    private static readonly Lazy<Task> Installation = new(InstallAsync);

    /// <summary>This folder in the source tree: the scripts, the SPA, package.json and (once installed) node_modules.</summary>
    internal static string Folder { get; } = Path.Combine(Infrastructure.RepositoryPaths.Root, "Server.Tests", "Interop");

    /// <summary>Runs the script (this folder's <paramref name="script"/>) with <paramref name="environment"/>; its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment, string script = "relying-party.mjs")
    {
        await EnsureInstalledAsync();
        return await RunProcessAsync("node", [script], environment, TimeSpan.FromMinutes(2));
    }

    /// <summary>Checks Node.js and installs the locked packages unless every dependency in package.json is there.</summary>
    internal static Task EnsureInstalledAsync() => Installation.Value;

    private static async Task InstallAsync()
    {
        var (_, version) = await RunProcessAsync("node", ["--version"], new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        Assert.True(Version.TryParse(version.Trim().TrimStart('v'), out var node) && node.Major >= 20,
            $"The interop test needs Node.js 20 or later (node --version said '{version.Trim()}').");
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Folder, "package.json")));
        if (manifest.RootElement.GetProperty("dependencies").EnumerateObject()
            .All(dependency => File.Exists(Path.Combine(Folder, "node_modules", dependency.Name, "package.json"))))
        {
            return;
        }

        var (exitCode, output) = await RunProcessAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"],
            new Dictionary<string, string>(), TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, $"npm ci in {Folder} failed:\n{output}");
    }

    private static async Task<(int ExitCode, string Output)> RunProcessAsync(string fileName, string[] arguments,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"The interop test needs Node.js 20 or later with npm ({fileName}: {e.Message}).");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}:\n{output}");
        }

        process.WaitForExit(); // drains the redirected output
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
