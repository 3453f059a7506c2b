using System.Data.Common;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;

namespace IdentityServer.Hosting;

/// <summary>
/// Any failure of a start, said in one line for the operator: what failed and, where it is known, the setting to change.
/// Program prints it on stderr and exits with 1; nothing reaches the runtime's unhandled-exception handler (a stack
/// trace and exit code 134). Settings the server checks itself fail earlier with a <see cref="StartupConfigurationException"/>
/// naming the key; what is left is what only the attempt shows: a database that does not answer, an address Kestrel
/// cannot bind, a TLS certificate Kestrel cannot read.
/// </summary>
public static class StartupFailure
{
    /// <summary>The line to print for a failure before or while the server started.</summary>
    public static string Describe(Exception failure)
    {
        var e = Unwrap(failure);
        return OneLine(e switch
        {
            StartupConfigurationException => e.Message,
            IOException when e.InnerException is AddressInUseException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
                // Kestrel's message names the address ("Failed to bind to address http://127.0.0.1:5000: address already in use.").
                $"Cannot listen: {e.Message} Choose another port with --urls (see docs/configuration.md).",
            IOException when e.Message.StartsWith("Failed to bind", StringComparison.Ordinal) =>
                $"Cannot listen: {e.Message} {Cause(e)} Check --urls / ASPNETCORE_URLS / Kestrel:Endpoints (see docs/configuration.md).",
            InvalidOperationException when e.Message.Contains("HTTPS endpoint", StringComparison.Ordinal) =>
                "Cannot listen on https: no TLS certificate is configured. Set Kestrel:Certificates:Default:Path (and :Password or :KeyPath), "
                + "or listen on http behind a TLS-terminating proxy (see docs/configuration.md).",
            CryptographicException =>
                $"Cannot listen on https: the TLS certificate could not be read ({TlsSettings}): {e.Message}",
            DbException or SocketException or TimeoutException => Database(e),
            _ => $"The server could not start: {Summary(e)}",
        });
    }

    /// <summary>The line for a database that could not be migrated or seeded at start: the cause and the settings to check.</summary>
    public static string Database(Exception failure)
    {
        var e = Unwrap(failure);
        if (e is StartupConfigurationException)
        {
            return OneLine(e.Message);
        }

        var check = e is Microsoft.Data.Sqlite.SqliteException
            ? "Check Database:DataDirectory (or the Data Source of Database:ConnectionString): may the server create and write the database file there?"
            : "Check Database:Provider and Database:ConnectionString: is the database server running and reachable from here?";
        return $"The database could not be prepared: {Summary(e)} {check}";
    }

    /// <summary>The failure's message with its innermost cause ("Failed to connect to 127.0.0.1:1 (Connection refused)."), on one line.</summary>
    public static string Summary(Exception failure)
    {
        var e = Unwrap(failure);
        var cause = e.InnerException is null || e.InnerException.Message == e.Message ? "" : " " + Cause(e);
        return OneLine(e.Message + cause);
    }

    /// <summary>Where Kestrel takes TLS certificates from, for a message that cannot tell which one failed.</summary>
    private const string TlsSettings = "Kestrel:Certificates:Default or Kestrel:Endpoints:<name>:Certificate";

    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            e = aggregate.InnerExceptions[0];
        }

        return e;
    }

    /// <summary>The innermost cause ("Connection refused"), which the outer message often leaves out.</summary>
    private static string Cause(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return ReferenceEquals(inner, e) ? "" : $"({inner.Message.TrimEnd('.')}).";
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
