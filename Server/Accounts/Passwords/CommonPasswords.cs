using System.IO.Compression;
using System.Text;

namespace IdentityServer.Accounts.Passwords;

/// <summary>
/// The common and breached passwords the server refuses (NIST SP 800-63B §5.1.1.2, OWASP ASVS 5.0 6.2.4 and 6.2.12):
/// the embedded <c>common-passwords.txt.gz</c>, whose source, licence and making are in the README beside it. It is
/// read once per process, on first use, and compared case-insensitively (the list is lowercase).
/// </summary>
public static class CommonPasswords
{
    public const string ResourceName = "IdentityServer.Accounts.Passwords.common-passwords.txt.gz";

    private static readonly Lazy<HashSet<string>> List = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>How many passwords the list holds.</summary>
    public static int Count => List.Value.Count;

    /// <summary>The shortest password on the list: the list was cut at the minimum length the server accepts.</summary>
    public static int ShortestLength => List.Value.Min(p => p.Length);

    public static bool Contains(string password) => List.Value.Contains(password.ToLowerInvariant());

    private static HashSet<string> Load()
    {
        using var stream = typeof(CommonPasswords).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        var passwords = new HashSet<string>(50_000, StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                passwords.Add(line.ToLowerInvariant());
            }
        }

        return passwords;
    }
}
