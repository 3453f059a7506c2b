namespace IdentityServer.Tests.Infrastructure;

/// <summary>The source tree the tests run from, for files they read or run in place (compose.yaml, the interop scripts).</summary>
internal static class RepositoryPaths
{
    /// <summary>The folder holding IdentityServer.sln, found upwards from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "IdentityServer.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("IdentityServer.sln was not found above " + AppContext.BaseDirectory);
    }
}
