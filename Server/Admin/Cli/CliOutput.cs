using System.Text.Json;
using IdentityServer.Hosting.Cli;

namespace IdentityServer.Admin.Cli;

/// <summary>How the admin commands report results: one line each, errors on stderr with a non-zero exit code.</summary>
internal static class CliOutput
{
    public static async Task<int> FailAsync(CommandContext context, string message)
    {
        await context.Error.WriteLineAsync(message);
        return 1;
    }

    public static Task<int> FailAsync<T>(CommandContext context, AdminResult<T> result, string notFound) =>
        FailAsync(context, result.Outcome == AdminOutcome.NotFound ? notFound : $"{result.Error!.Error}: {result.Error.Description}");

    /// <summary>
    /// <c>--json</c> output of a list command: the admin API's JSON for the same objects (its serializer options, so the
    /// shape is the API's), indented, on standard output.
    /// </summary>
    public static async Task<int> WriteJsonAsync<T>(CommandContext context, T value, JsonSerializerOptions apiOptions)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            JsonSerializer.Serialize(writer, value, apiOptions);
        }

        await context.Out.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        return 0;
    }

    /// <summary>A password from the first line of standard input (<c>--password-stdin</c>), so it stays out of shell history.</summary>
    public static async Task<string?> ReadPasswordAsync(CommandContext context)
    {
        if (!context.Arguments.Flag("password-stdin"))
        {
            return null;
        }

        var line = await context.In.ReadLineAsync(context.CancellationToken);
        return string.IsNullOrEmpty(line) ? throw new CommandUsageException("--password-stdin: standard input is empty.") : line;
    }

    /// <summary>A duration as seconds (<c>3600</c>) or a TimeSpan (<c>1.00:00:00</c>).</summary>
    public static TimeSpan? ParseDuration(string? value, string option)
    {
        if (value is null)
        {
            return null;
        }

        if (long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds < 100L * 365 * 86400)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return TimeSpan.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var span)
            ? span
            : throw new CommandUsageException($"--{option} must be seconds (3600) or a duration (1.00:00:00).");
    }
}
