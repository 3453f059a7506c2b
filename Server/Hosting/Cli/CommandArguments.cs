namespace IdentityServer.Hosting.Cli;

/// <summary>
/// Arguments of the form <c>word word --option value --option=value --flag</c>: words before the first option are
/// positional; an option may repeat. An option is a flag when nothing (or another option) follows it. Every option a
/// command does not read is reported by <see cref="EnsureAllUsed"/>, so a typo is an error rather than ignored.
/// </summary>
public sealed class CommandArguments
{
    private readonly List<string> _positional = [];
    private readonly Dictionary<string, List<string?>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CommandArguments(IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var arg = list[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (_options.Count > 0)
                {
                    throw new CommandUsageException($"'{arg}' must come before the options.");
                }

                _positional.Add(arg);
                continue;
            }

            var name = arg[2..];
            string? value = null;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = list[++i];
            }

            if (!_options.TryGetValue(name, out var values))
            {
                _options[name] = values = [];
            }

            values.Add(value);
        }
    }

    public IReadOnlyList<string> Positional => _positional;

    /// <summary>The positional word at <paramref name="index"/>, or a usage error naming <paramref name="what"/>.</summary>
    public string Required(int index, string what) =>
        index < _positional.Count ? _positional[index] : throw new CommandUsageException($"Missing {what}.");

    /// <summary>The single value of an option, or null when absent.</summary>
    public string? Option(string name)
    {
        var values = Values(name);
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw new CommandUsageException($"--{name} is given more than once."),
        };
    }

    public string RequiredOption(string name) => Option(name) ?? throw new CommandUsageException($"--{name} is required.");

    /// <summary>All values of a repeatable option; each may also be a comma- or space-separated list.</summary>
    public IReadOnlyList<string> List(string name) =>
        Values(name).SelectMany(v => v.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    public bool Flag(string name)
    {
        _used.Add(name);
        if (!_options.TryGetValue(name, out var values))
        {
            return false;
        }

        return values.Count == 1 && values[0] is null ? true : throw new CommandUsageException($"--{name} takes no value.");
    }

    /// <summary>Throws a usage error for options nobody read, or positional words beyond <paramref name="positionalCount"/>.</summary>
    public void EnsureAllUsed(int positionalCount)
    {
        if (_options.Keys.FirstOrDefault(k => !_used.Contains(k)) is { } unknown)
        {
            throw new CommandUsageException($"Unknown option --{unknown}.");
        }

        if (_positional.Count > positionalCount)
        {
            throw new CommandUsageException($"Unexpected argument '{_positional[positionalCount]}'.");
        }
    }

    private List<string> Values(string name)
    {
        _used.Add(name);
        if (!_options.TryGetValue(name, out var values))
        {
            return [];
        }

        return values.Any(v => v is null) ? throw new CommandUsageException($"--{name} needs a value.") : values.Select(v => v!).ToList();
    }
}
