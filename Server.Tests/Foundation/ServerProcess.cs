using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// The built server (IdentityServer.dll, copied next to the test assembly by the project reference) run as a real
/// process with a given environment, in a given working directory. Settings inherited from the test runner's own
/// environment are removed first, so only what a test passes reaches the server.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly string[] ServerSettingPrefixes = ["ASPNETCORE_", "DOTNET_ENVIRONMENT", "Server__", "Database__", "Signing__", "Tokens__", "Logging__"];

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(IReadOnlyDictionary<string, string> environment, string workingDirectory, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(DotnetHost)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServerAssembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => ServerSettingPrefixes.Any(p => k.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data, _stdoutClosed);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data, _stderrClosed);
        if (!_process.Start())
        {
            throw new InvalidOperationException("The server process did not start.");
        }

        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static string ServerAssembly => Path.Combine(AppContext.BaseDirectory, "IdentityServer.dll");

    /// <summary>The dotnet host running these tests (DOTNET_HOST_PATH is set by the SDK), else the one on PATH.</summary>
    private static string DotnetHost
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(host) && File.Exists(host))
            {
                return host;
            }

            var current = Environment.ProcessPath;
            return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
        }
    }

    public string StandardOutput { get { lock (_stdout) { return _stdout.ToString(); } } }
    public string StandardError { get { lock (_stderr) { return _stderr.ToString(); } } }
    public bool HasExited => _process.HasExited;
    public int Id => _process.Id;

    /// <param name="arguments">Command-line arguments after the assembly, for example <c>prune</c>.</param>
    public static ServerProcess Start(IReadOnlyDictionary<string, string> environment, string workingDirectory, params string[] arguments)
    {
        Assert.True(File.Exists(ServerAssembly), $"The built server is not next to the tests: {ServerAssembly}");
        return new ServerProcess(environment, workingDirectory, arguments);
    }

    /// <summary>Waits for the process to end; on timeout it is killed and null is returned.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Stop();
            return null;
        }

        // Both pipes are drained once their end-of-stream arrived.
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(10));
        return _process.ExitCode;
    }

    public void Stop()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void Append(StringBuilder buffer, string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }
}
