using Microsoft.Extensions.Configuration.Json;

namespace IdentityServer.Hosting;

public static class ConfigurationSetup
{
    /// <summary>
    /// The repository-root appsettings.json (copied next to the binaries) is the server's configuration, whatever the
    /// working directory. It goes first, so the usual sources (environment variables, command line) still override it.
    /// </summary>
    public static WebApplicationBuilder AddServerConfiguration(this WebApplicationBuilder builder)
    {
        var sources = builder.Configuration.Sources;
        var index = 0;
        foreach (var file in new[] { "appsettings.json", $"appsettings.{builder.Environment.EnvironmentName}.json" })
        {
            var path = Path.Combine(AppContext.BaseDirectory, file);
            if (!File.Exists(path) || IsAlreadyLoaded(sources, path, builder.Environment.ContentRootPath))
            {
                continue;
            }

            var source = new JsonConfigurationSource { Path = path, Optional = true, ReloadOnChange = false };
            source.ResolveFileProvider();
            sources.Insert(index++, source);
        }

        ListenSettings.Check(builder.Configuration, builder.Environment.ContentRootPath);
        IssuerFromAddress.Apply(builder.Configuration, builder.Environment.IsDevelopment());
        return builder;
    }

    /// <summary>
    /// The stylesheets of a published server (wwwroot next to the binaries) when it is started from another folder, as
    /// a service manager or a script does; null (the content root's wwwroot, or Development's static web assets) otherwise.
    /// </summary>
    public static string? PublishedWebRoot()
    {
        var published = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        return Directory.Exists(published) && !Directory.Exists(Path.Combine(Directory.GetCurrentDirectory(), "wwwroot")) ? published : null;
    }

    private static bool IsAlreadyLoaded(IList<IConfigurationSource> sources, string path, string contentRoot) =>
        sources.OfType<JsonConfigurationSource>().Any(s =>
            s.Path is not null && string.Equals(Path.GetFullPath(Path.Combine(contentRoot, s.Path)), path, StringComparison.Ordinal));
}
