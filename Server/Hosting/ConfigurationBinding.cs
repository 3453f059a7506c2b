using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;

namespace IdentityServer.Hosting;

/// <summary>
/// Binds a section of the server's own settings. A value that does not convert (<c>Tokens:AccessTokenLifetime=banana</c>)
/// is a <see cref="StartupConfigurationException"/> naming the key, not the binder's stack trace; a key no property
/// matches (a misspelling) is remembered and reported once at start as a warning (<see cref="ReportUnknownKeys"/>).
/// </summary>
public static partial class ConfigurationBinding
{
    private static readonly ConcurrentDictionary<string, byte> UnknownKeys = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The section bound to <typeparamref name="T"/>, or a new <typeparamref name="T"/> when the section is empty.</summary>
    public static T BindSetting<T>(this IConfiguration configuration, string section) where T : new() =>
        configuration.GetSection(section).BindSetting<T>() ?? new T();

    /// <summary>The section bound to <typeparamref name="T"/>; null when the section is empty.</summary>
    /// <param name="reportUnknownKeys">False where one section binds onto more than one type (a seeded client).</param>
    public static T? BindSetting<T>(this IConfigurationSection section, bool reportUnknownKeys = true)
    {
        T? value;
        try
        {
            value = section.Get<T>();
        }
        catch (InvalidOperationException e)
        {
            var key = FailedKey().Match(e.Message) is { Success: true } match ? match.Groups[1].Value : section.Path;
            var raw = section.GetSection(RelativeTo(section.Path, key)).Value;
            throw new StartupConfigurationException(key, $"'{raw}' is not a valid {Describe(e.Message)}.");
        }

        if (reportUnknownKeys)
        {
            FindUnknownKeys(section, typeof(T));
        }

        return value;
    }

    /// <summary>One value of the server's settings (<c>Admin:SecretRotationGracePeriod</c>), or <paramref name="fallback"/> when unset.</summary>
    public static T ReadSetting<T>(this IConfiguration configuration, string key, T fallback)
    {
        try
        {
            return configuration.GetValue(key, fallback)!;
        }
        catch (InvalidOperationException e)
        {
            throw new StartupConfigurationException(key, $"'{configuration[key]}' is not a valid {Describe(e.Message)}.");
        }
    }

    /// <summary>Logs each unknown key once, as a warning naming it; later calls report only keys found since.</summary>
    public static void ReportUnknownKeys(ILogger logger)
    {
        foreach (var key in UnknownKeys.Keys.Order(StringComparer.Ordinal))
        {
            if (UnknownKeys.TryRemove(key, out _))
            {
                logger.LogWarning("Unknown setting '{Setting}' is ignored; check its spelling", key);
            }
        }
    }

    private static string RelativeTo(string section, string key) =>
        key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase) ? key[(section.Length + 1)..] : key;

    private static string Describe(string message) =>
        ConversionType().Match(message) is { Success: true } match
            ? Nullable.GetUnderlyingType(Type.GetType(match.Groups[1].Value) ?? typeof(object)) is { } inner ? TypeName(inner) : TypeName(Type.GetType(match.Groups[1].Value))
            : "value";

    private static string TypeName(Type? type) => type switch
    {
        null => "value",
        _ when type == typeof(TimeSpan) => "duration (d.hh:mm:ss, for example 00:10:00)",
        _ when type == typeof(bool) => "boolean (true or false)",
        _ when type == typeof(int) || type == typeof(long) => "whole number",
        _ when type.IsEnum => $"value (one of {string.Join(", ", Enum.GetNames(type))})",
        _ => type.Name,
    };

    private static void FindUnknownKeys(IConfigurationSection section, Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsLeaf(type) || typeof(IDictionary).IsAssignableFrom(type) || IsGenericDictionary(type))
        {
            return;
        }

        if (type != typeof(string) && ElementType(type) is { } element)
        {
            foreach (var item in section.GetChildren())
            {
                FindUnknownKeys(item, element);
            }

            return;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                UnknownKeys.TryAdd(child.Path, 0);
            }
            else
            {
                FindUnknownKeys(child, property.PropertyType);
            }
        }
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid) || type == typeof(object);

    private static bool IsGenericDictionary(Type type) =>
        type.GetInterfaces().Append(type).Any(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)));

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    [GeneratedRegex("' at '([^']+)' to type '")]
    private static partial Regex FailedKey();

    [GeneratedRegex("to type '([^']+)'")]
    private static partial Regex ConversionType();
}
