using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Protocol;
using IdentityServer.Tokens;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// The settings the server knows, found by reflection: every options class of the server assembly that declares a
/// <c>Section</c> constant, walked the way the configuration binder walks it (properties case-insensitively, list
/// indexes, dictionary keys). An environment variable name <c>Database__ConnectionString</c> is checked against it.
/// </summary>
internal static class ServerSettings
{
    /// <summary>Settings read by the framework rather than by our options classes.</summary>
    private static readonly string[] FrameworkPrefixes = ["ASPNETCORE_", "Logging__"];

    public static IReadOnlyDictionary<string, IReadOnlyList<Type>> Sections { get; } = typeof(DatabaseOptions).Assembly.GetTypes()
        .Select(type => (Type: type, Field: type.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
        .Where(t => t.Field is { IsLiteral: true } && t.Field.FieldType == typeof(string))
        .GroupBy(t => (string)t.Field!.GetRawConstantValue()!, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(g => g.Key, g => (IReadOnlyList<Type>)[.. g.Select(t => t.Type)], StringComparer.OrdinalIgnoreCase);

    /// <summary>The option classes this check must at least cover.</summary>
    public static IReadOnlyList<(string Section, Type Type)> Required { get; } =
    [
        (DatabaseOptions.Section, typeof(DatabaseOptions)),
        (ServerOptions.Section, typeof(ServerOptions)),
        (SigningOptions.Section, typeof(SigningOptions)),
        (TokenOptions.Section, typeof(TokenOptions)),
    ];

    /// <summary>Null when the variable is a setting the server reads and the value fits its type; otherwise the problem.</summary>
    public static string? Check(string name, string value)
    {
        if (FrameworkPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal) && name.Length > p.Length))
        {
            return null;
        }

        var segments = name.Split("__");
        if (segments.Any(string.IsNullOrEmpty))
        {
            return $"'{name}' is not a configuration key (empty segment)";
        }

        var problems = new List<string>();
        foreach (var (section, types) in Sections)
        {
            var sectionSegments = section.Split(':');
            if (segments.Length <= sectionSegments.Length
                || !segments.Take(sectionSegments.Length).SequenceEqual(sectionSegments, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var type in types)
            {
                var problem = CheckPath(type, segments[sectionSegments.Length..], value);
                if (problem is null)
                {
                    return null;
                }

                problems.Add($"{type.Name}: {problem}");
            }
        }

        return problems.Count == 0
            ? $"'{name}' is in no section the server reads (known: {string.Join(", ", Sections.Keys.Order(StringComparer.Ordinal))}, ASPNETCORE_*, Logging__*)"
            : $"'{name}': {string.Join("; ", problems)}";
    }

    private static string? CheckPath(Type type, string[] path, string value)
    {
        var current = type;
        foreach (var segment in path)
        {
            if (DictionaryValueType(current) is { } valueType)
            {
                current = valueType;
            }
            else if (ListElementType(current) is { } elementType)
            {
                if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return $"'{segment}' is not a list index";
                }

                current = elementType;
            }
            else if (IsScalar(current))
            {
                return $"'{segment}' goes below a value of type {current.Name}";
            }
            else
            {
                var property = current.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                if (property is null || (property.SetMethod?.IsPublic != true && IsScalar(property.PropertyType)))
                {
                    return $"{current.Name} has no settable property '{segment}'";
                }

                current = property.PropertyType;
            }
        }

        if (!IsScalar(current))
        {
            return $"the value is a {current.Name}, not a single setting";
        }

        // "${VAR...}" is filled in by Compose from the operator's environment; only literal values can be checked here.
        if (value.Contains("${", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            TypeDescriptor.GetConverter(Nullable.GetUnderlyingType(current) ?? current).ConvertFromInvariantString(value);
            return null;
        }
        catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException || e.InnerException is FormatException)
        {
            return $"'{value}' is not a valid {current.Name}";
        }
    }

    private static bool IsScalar(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying == typeof(string) || underlying.IsPrimitive || underlying.IsEnum || underlying == typeof(decimal)
            || underlying == typeof(TimeSpan) || underlying == typeof(DateTimeOffset) || underlying == typeof(DateTime)
            || underlying == typeof(Guid) || underlying == typeof(Uri);
    }

    private static Type? ListElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments().Length == 1 && type != typeof(string)
            ? type.GetGenericArguments()[0]
            : null;
    }

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericArguments() is [var key, var value] && key == typeof(string)
            && typeof(IEnumerable).IsAssignableFrom(type)
            ? value
            : null;
}
