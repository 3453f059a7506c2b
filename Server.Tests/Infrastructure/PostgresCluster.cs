using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster shared by the whole test run: Debian's binaries, <c>initdb</c> into a temp folder,
/// <c>pg_ctl start</c> on a free loopback port with trust authentication, stopped and deleted when the process exits.
/// It starts on first use only, so a run that touches no PostgreSQL test never pays for it. Each test fixture takes a
/// fresh database from it (<see cref="CreateDatabaseAsync"/>).
/// </summary>
public sealed class PostgresCluster
{
    private const string FolderPrefix = "idsrv-pg-";
    private const string OwnerFile = "owner.pid";
    private const string SystemUser = "postgres";

    private static readonly Lazy<PostgresCluster> Instance = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _binDirectory;
    private readonly string _folder;
    private readonly bool _asSystemUser;
    private int _stopped;

    private PostgresCluster(string binDirectory, string folder, bool asSystemUser, int port)
    {
        _binDirectory = binDirectory;
        _folder = folder;
        _asSystemUser = asSystemUser;
        Port = port;
    }

    /// <summary>Where Debian installs PostgreSQL (one folder per major version).</summary>
    public const string DebianRoot = "/usr/lib/postgresql";

    /// <summary>The binaries of the highest installed version, or null when PostgreSQL is not installed.</summary>
    public static string? BinDirectory { get; } = FindBinDirectory(DebianRoot);

    /// <summary>The shared cluster, started on first use. Throws (failing the test) when it cannot start.</summary>
    public static PostgresCluster Shared => Instance.Value;

    public int Port { get; }

    /// <summary>A connection string for the <c>postgres</c> maintenance database.</summary>
    public string AdminConnectionString => ConnectionStringFor("postgres");

    /// <summary>The bin folder of the highest major version under <paramref name="root"/> that has initdb and pg_ctl.</summary>
    internal static string? FindBinDirectory(string root)
    {
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.EnumerateDirectories(root)
            .Select(dir => (Dir: dir, Version: ParseVersion(Path.GetFileName(dir))))
            .Where(x => x.Version is not null
                && File.Exists(Path.Combine(x.Dir, "bin", "initdb"))
                && File.Exists(Path.Combine(x.Dir, "bin", "pg_ctl")))
            .OrderByDescending(x => x.Version)
            .Select(x => Path.Combine(x.Dir, "bin"))
            .FirstOrDefault();
    }

    private static Version? ParseVersion(string name) =>
        Version.TryParse(name.Contains('.', StringComparison.Ordinal) ? name : name + ".0", out var version) ? version : null;

    /// <summary>Creates a fresh, uniquely named database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "idsrv_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return ConnectionStringFor(name);
    }

    private string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SystemUser,
        Database = database,
        // Tests create many short-lived databases; pooled idle connections would only hold server slots.
        MaxPoolSize = 20,
        Timeout = 30,
    }.ToString();

    private static PostgresCluster Start()
    {
        var bin = BinDirectory ?? throw new InvalidOperationException(
            $"PostgreSQL tests need Debian's postgresql package (no {DebianRoot}/*/bin/initdb was found): apt-get install postgresql.");

        var asSystemUser = IsRoot();
        RemoveLeftovers(bin, asSystemUser);

        var folder = Path.Combine(Path.GetTempPath(), FolderPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var data = Path.Combine(folder, "data");
        var sockets = Path.Combine(folder, "sockets");
        Directory.CreateDirectory(sockets);
        if (asSystemUser)
        {
            // PostgreSQL refuses to run as root: the cluster belongs to the postgres system user.
            Run("chown", ["-R", $"{SystemUser}:{SystemUser}", folder], asSystemUser: false);
        }

        try
        {
            Run(Path.Combine(bin, "initdb"),
                ["-D", data, "-U", SystemUser, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
                asSystemUser);

            // A free port can be taken by someone else between our probe and the server's bind: try a few.
            Exception? last = null;
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var port = FreeLoopbackPort();
                var options = string.Join(' ',
                    "-c listen_addresses=127.0.0.1", $"-p {port}", $"-k {sockets}",
                    "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=200");
                try
                {
                    Run(Path.Combine(bin, "pg_ctl"),
                        ["-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "-o", options, "start"],
                        asSystemUser);
                    var cluster = new PostgresCluster(bin, folder, asSystemUser, port);
                    // The test host gives exit handlers only a moment (it is killed soon after the run): the handler
                    // stops the server at once, and a detached watchdog finishes the job, even after a crash or a kill.
                    StartWatchdog(bin, folder, asSystemUser);
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Stop();
                    return cluster;
                }
                catch (InvalidOperationException e)
                {
                    last = e;
                }
            }

            throw new InvalidOperationException("The throwaway PostgreSQL cluster did not start: " + last?.Message + ServerLog(folder), last);
        }
        catch
        {
            TryDelete(folder);
            throw;
        }
    }

    /// <summary>Stops the server at once (nothing in it is worth keeping); the watchdog deletes the folder.</summary>
    internal void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        try
        {
            Run(Path.Combine(_binDirectory, "pg_ctl"), ["-D", Path.Combine(_folder, "data"), "-m", "immediate", "-w", "stop"], _asSystemUser);
        }
        catch (InvalidOperationException)
        {
            // Already stopped (by the watchdog); nothing to do.
        }
    }

    /// <summary>
    /// A detached shell (its own session, so it outlives this process and escapes a kill of its process tree) that waits
    /// for this process to end, then stops the server if it still runs and deletes the cluster's folder.
    /// </summary>
    private static void StartWatchdog(string bin, string folder, bool asSystemUser)
    {
        var data = Path.Combine(folder, "data");
        var pgCtl = (asSystemUser ? $"runuser -u {SystemUser} -- " : "") + ShellQuote(Path.Combine(bin, "pg_ctl"));
        var script = string.Join("; ",
            "exec </dev/null >/dev/null 2>&1",
            $"while kill -0 {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}; do sleep 0.5; done",
            $"if [ -f {ShellQuote(Path.Combine(data, "postmaster.pid"))} ]; then {pgCtl} -D {ShellQuote(data)} -m immediate -w stop; fi",
            $"rm -rf {ShellQuote(folder)}");
        var start = new ProcessStartInfo { FileName = "setsid", UseShellExecute = false };
        foreach (var argument in new[] { "--fork", "sh", "-c", script })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the cluster's watchdog (setsid).");
        process.WaitForExit();
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static void StopAndDelete(string bin, string folder, bool asSystemUser)
    {
        var data = Path.Combine(folder, "data");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            try
            {
                Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], asSystemUser);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        TryDelete(folder);
    }

    /// <summary>
    /// Clusters of earlier runs whose test process died without its exit handler (killed, crashed) would run forever:
    /// stop and delete those whose owning process is gone.
    /// </summary>
    private static void RemoveLeftovers(string bin, bool asSystemUser)
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var ownerFile = Path.Combine(folder, OwnerFile);
            if (!File.Exists(ownerFile)
                || !int.TryParse(File.ReadAllText(ownerFile), NumberStyles.Integer, CultureInfo.InvariantCulture, out var owner)
                || IsAlive(owner))
            {
                continue;
            }

            StopAndDelete(bin, folder, asSystemUser);
        }
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Runs a program to completion (as the postgres system user through runuser when we are root).</summary>
    private static void Run(string program, IReadOnlyList<string> arguments, bool asSystemUser)
    {
        var start = new ProcessStartInfo
        {
            FileName = asSystemUser ? "runuser" : program,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The server inherits these; a postgres started by a test must not depend on the caller's locale.
            Environment = { ["LC_ALL"] = "C", ["LANG"] = "C" },
        };
        if (asSystemUser)
        {
            foreach (var argument in new[] { "-u", SystemUser, "--", program })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        // pg_ctl's server keeps the inherited pipes open: read to the end asynchronously and do not wait for EOF
        // after the program itself has exited.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(program)} did not finish within 2 minutes.");
        }

        if (process.ExitCode != 0)
        {
            var text = (Finished(output) + Finished(error)).Trim();
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {text}");
        }
    }

    private static string Finished(Task<string> read) =>
        read.Wait(TimeSpan.FromSeconds(2)) ? read.Result : "";

    private static string ServerLog(string folder)
    {
        var log = Path.Combine(folder, "server.log");
        return File.Exists(log) ? Environment.NewLine + File.ReadAllText(log) : "";
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }

    private static bool IsRoot() => OperatingSystem.IsLinux() && NativeMethods.geteuid() == 0;

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = false)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern uint geteuid();
    }
}
