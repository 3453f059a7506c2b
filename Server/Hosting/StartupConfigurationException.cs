namespace IdentityServer.Hosting;

/// <summary>
/// A setting that makes the server unable to start. Its message names the setting; Program prints it as one line and exits.
/// </summary>
public sealed class StartupConfigurationException(string setting, string problem)
    : Exception($"Configuration error in '{setting}': {problem}")
{
    public string Setting { get; } = setting;
}
