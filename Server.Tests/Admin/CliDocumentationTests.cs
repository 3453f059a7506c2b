using System.Text;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Admin;

/// <summary>The documentation and the command line agree: every documented command exists with the options it shows.</summary>
public sealed class CliDocumentationTests
{
    public static TheoryData<string, string> DocumentedCommands()
    {
        var data = new TheoryData<string, string>();
        var seen = new HashSet<(string, string)>();
        foreach (var file in new[] { "README.md", "docs/administration.md", "docs/operations.md", "docs/configuration.md" })
        {
            var lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, file));
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                while (line.EndsWith('\\') && i + 1 < lines.Length)
                {
                    line = line[..^1] + " " + lines[++i].Trim();
                }

                const string Prefix = "dotnet run --project Server -- ";
                if (line.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    Add(file, line[Prefix.Length..]);
                }

                foreach (System.Text.RegularExpressions.Match inline in System.Text.RegularExpressions.Regex.Matches(line, "`" + Prefix + "([^`]+)`"))
                {
                    Add(file, inline.Groups[1].Value);
                }
            }
        }

        return data;

        void Add(string file, string commandLine)
        {
            // Host arguments (--urls ...) start the server; only commands are checked here.
            if (!commandLine.StartsWith('-') && seen.Add((file, commandLine)))
            {
                data.Add(file, commandLine);
            }
        }
    }

    [Theory]
    [MemberData(nameof(DocumentedCommands))]
    public void A_documented_command_exists_with_the_options_it_uses(string file, string commandLine)
    {
        var args = ShellWords(commandLine);
        if (args[0] is "help" or "--help" or "-h" || args[0].All(char.IsUpper)) // COMMAND: a placeholder
        {
            return;
        }

        var command = Assert.Single(ServerCommands.All, c => c.Name == args[0]);
        if (command.RequiresSubcommand)
        {
            Assert.True(command.Usage.Contains($"{command.Name} {args[1]} ", StringComparison.Ordinal), $"{file}: no subcommand '{args[1]}' in: {commandLine}");
        }

        foreach (var option in args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).Select(a => a.Split('=')[0]))
        {
            Assert.True(command.Usage.Contains(option, StringComparison.Ordinal), $"{file}: the usage of '{command.Name}' has no {option}: {commandLine}");
        }
    }

    [Fact]
    public void The_readme_test_command_is_the_one_ci_runs()
    {
        var readme = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md")).Single(l => l.StartsWith("dotnet test ", StringComparison.Ordinal));
        var ci = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".ci", "run")).Where(l => l.StartsWith("dotnet test ", StringComparison.Ordinal)).ToList();

        Assert.Equal(readme + " || status=$?", Assert.Single(ci));
        Assert.Contains("--logger \"console;verbosity=normal\"", readme, StringComparison.Ordinal);
    }

    /// <summary>Words as a POSIX shell splits them (quotes, no expansion), up to a redirection.</summary>
    private static List<string> ShellWords(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char? quote = null;
        foreach (var c in line)
        {
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
                else
                {
                    word.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else if (c is '<' or '>' or '|' or '#')
            {
                break;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }
}
