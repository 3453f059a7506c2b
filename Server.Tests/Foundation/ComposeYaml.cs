using System.Globalization;
using System.Text;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// A strict reader for the small YAML subset compose.yaml is written in: block mappings, block sequences of scalars,
/// plain and quoted scalars, and comments. Everything else (flow collections, anchors and aliases, tags, block scalars,
/// sequences of mappings, tabs, several documents, duplicate keys) is refused with its line number, so the file cannot
/// drift into a shape that this reader would silently misread. A mapping is a dictionary, a sequence a list of strings,
/// a scalar a string, and a key with nothing after it null.
/// </summary>
internal static class ComposeYaml
{
    public static Dictionary<string, object?> Parse(string text)
    {
        var lines = Tokenize(text);
        if (lines.Count == 0)
        {
            return new Dictionary<string, object?>(StringComparer.Ordinal);
        }

        if (lines[0].Indent != 0)
        {
            throw Error(lines[0], "the document must start at column 1");
        }

        var index = 0;
        var root = ParseBlock(lines, ref index, 0) as Dictionary<string, object?>
            ?? throw Error(lines[0], "the document must be a mapping");
        return index == lines.Count ? root : throw Error(lines[index], "unexpected indentation");
    }

    private sealed record Line(int Number, int Indent, string Content);

    private static List<Line> Tokenize(string text)
    {
        var result = new List<Line>();
        var raw = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < raw.Length; i++)
        {
            var number = i + 1;
            var line = raw[i];
            var indent = 0;
            while (indent < line.Length && line[indent] == ' ')
            {
                indent++;
            }

            if (indent < line.Length && line[indent] == '\t')
            {
                throw new FormatException($"compose.yaml line {number}: tabs are not allowed for indentation");
            }

            var content = StripComment(line[indent..], number).TrimEnd();
            if (content.Length == 0)
            {
                continue;
            }

            if (content is "---" or "..." || content.StartsWith('%'))
            {
                throw new FormatException($"compose.yaml line {number}: document markers and directives are not supported");
            }

            result.Add(new Line(number, indent, content));
        }

        return result;
    }

    /// <summary>Removes a comment: '#' at the start or after whitespace, outside quotes.</summary>
    private static string StripComment(string content, int number)
    {
        char? quote = null;
        for (var i = 0; i < content.Length; i++)
        {
            var c = content[i];
            if (quote is null)
            {
                if (c == '#' && (i == 0 || content[i - 1] == ' '))
                {
                    return content[..i];
                }

                if ((c is '"' or '\'') && (i == 0 || content[i - 1] is ' ' or '-'))
                {
                    quote = c;
                }
            }
            else if (c == '\\' && quote == '"')
            {
                i++;
            }
            else if (c == quote)
            {
                if (quote == '\'' && i + 1 < content.Length && content[i + 1] == '\'')
                {
                    i++;
                }
                else
                {
                    quote = null;
                }
            }
        }

        return quote is null ? content : throw new FormatException($"compose.yaml line {number}: unterminated quoted scalar");
    }

    private static object ParseBlock(List<Line> lines, ref int index, int indent) =>
        IsSequenceItem(lines[index].Content) ? ParseSequence(lines, ref index, indent) : ParseMapping(lines, ref index, indent);

    private static bool IsSequenceItem(string content) => content == "-" || content.StartsWith("- ", StringComparison.Ordinal);

    private static Dictionary<string, object?> ParseMapping(List<Line> lines, ref int index, int indent)
    {
        var mapping = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (index < lines.Count && lines[index].Indent >= indent)
        {
            var line = lines[index];
            if (line.Indent > indent)
            {
                throw Error(line, "unexpected indentation");
            }

            if (IsSequenceItem(line.Content))
            {
                throw Error(line, "a sequence item where a mapping key was expected");
            }

            var colon = FindMappingColon(line.Content) ?? throw Error(line, "expected 'key: value'");
            var key = Scalar(line.Content[..colon].TrimEnd(), line);
            var rest = line.Content[(colon + 1)..].Trim();
            if (!mapping.TryAdd(key, null))
            {
                throw Error(line, $"duplicate key '{key}'");
            }

            index++;
            if (rest.Length > 0)
            {
                mapping[key] = Scalar(rest, line);
                if (index < lines.Count && lines[index].Indent > indent)
                {
                    throw Error(lines[index], "unexpected indentation after a scalar value");
                }
            }
            else if (index < lines.Count && lines[index].Indent > indent)
            {
                mapping[key] = ParseBlock(lines, ref index, lines[index].Indent);
            }
        }

        return mapping;
    }

    private static List<string> ParseSequence(List<Line> lines, ref int index, int indent)
    {
        var sequence = new List<string>();
        while (index < lines.Count && lines[index].Indent >= indent)
        {
            var line = lines[index];
            if (line.Indent > indent)
            {
                throw Error(line, "unexpected indentation (only sequences of scalars are supported)");
            }

            if (!IsSequenceItem(line.Content))
            {
                throw Error(line, "a mapping key inside a sequence");
            }

            var item = line.Content[1..].Trim();
            if (item.Length == 0 || FindMappingColon(item) is not null || IsSequenceItem(item))
            {
                throw Error(line, "only sequences of scalars are supported");
            }

            sequence.Add(Scalar(item, line));
            index++;
        }

        return sequence;
    }

    /// <summary>The ':' that ends a mapping key: outside quotes and followed by a space or the end of the line.</summary>
    private static int? FindMappingColon(string content)
    {
        if (content.Length > 0 && content[0] is '"' or '\'')
        {
            var end = ClosingQuote(content);
            return end + 1 < content.Length && content[end + 1] == ':' && (end + 2 == content.Length || content[end + 2] == ' ') ? end + 1 : null;
        }

        for (var i = 0; i < content.Length; i++)
        {
            if (content[i] == ':' && (i + 1 == content.Length || content[i + 1] == ' '))
            {
                return i;
            }
        }

        return null;
    }

    private static int ClosingQuote(string content)
    {
        var quote = content[0];
        for (var i = 1; i < content.Length; i++)
        {
            if (quote == '"' && content[i] == '\\')
            {
                i++;
            }
            else if (content[i] == quote)
            {
                if (quote == '\'' && i + 1 < content.Length && content[i + 1] == '\'')
                {
                    i++;
                    continue;
                }

                return i;
            }
        }

        return content.Length;
    }

    private static string Scalar(string text, Line line)
    {
        if (text.Length == 0)
        {
            throw Error(line, "empty key");
        }

        if (text[0] is '"' or '\'')
        {
            var end = ClosingQuote(text);
            if (end != text.Length - 1)
            {
                throw Error(line, "text after a quoted scalar");
            }

            var inner = text[1..end];
            return text[0] == '\'' ? inner.Replace("''", "'", StringComparison.Ordinal) : Unescape(inner, line);
        }

        if ("[]{}&*!|>@`,".Contains(text[0], StringComparison.Ordinal) || (text[0] is '?' or '-' && (text.Length == 1 || text[1] == ' ')))
        {
            throw Error(line, $"unsupported YAML construct '{text}' (flow collections, anchors, aliases, tags and block scalars are not used here)");
        }

        if (text.Contains(" #", StringComparison.Ordinal) || FindMappingColon(text) is not null)
        {
            throw Error(line, $"ambiguous plain scalar '{text}'; quote it");
        }

        return text;
    }

    private static string Unescape(string inner, Line line)
    {
        var result = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            if (inner[i] != '\\')
            {
                result.Append(inner[i]);
                continue;
            }

            if (++i == inner.Length)
            {
                throw Error(line, "dangling escape");
            }

            result.Append(inner[i] switch
            {
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                'n' => '\n',
                't' => '\t',
                _ => throw Error(line, string.Create(CultureInfo.InvariantCulture, $"unsupported escape '\\{inner[i]}'")),
            });
        }

        return result.ToString();
    }

    private static FormatException Error(Line line, string problem) => new($"compose.yaml line {line.Number}: {problem}");
}
