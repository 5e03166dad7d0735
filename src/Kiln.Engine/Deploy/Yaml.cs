using System.Globalization;
using System.Text;

namespace Kiln.Engine.Deploy;

/// <summary>
/// A YAML node for the documents Kiln renders: maps keep the order they are built in (Kubernetes' conventional
/// apiVersion, kind, metadata, spec), so the output is deterministic without sorting.
/// </summary>
internal abstract class YamlNode;

/// <summary>A string scalar; always emitted double-quoted, so <c>1.10</c>, <c>yes</c>, <c>null</c>, <c>0x1A</c>, <c>~</c> and <c>on</c> stay strings.</summary>
internal sealed class YamlString(string value) : YamlNode
{
    public string Value { get; } = value;
}

/// <summary>An integer scalar.</summary>
internal sealed class YamlInt(long value) : YamlNode
{
    public long Value { get; } = value;
}

/// <summary>A boolean scalar.</summary>
internal sealed class YamlBool(bool value) : YamlNode
{
    public bool Value { get; } = value;
}

/// <summary>A sequence.</summary>
internal sealed class YamlSeq(IReadOnlyList<YamlNode> items) : YamlNode
{
    public IReadOnlyList<YamlNode> Items { get; } = items;
}

/// <summary>A mapping whose entries keep insertion order.</summary>
internal sealed class YamlMap : YamlNode, IEnumerable<KeyValuePair<string, YamlNode>>
{
    private readonly List<KeyValuePair<string, YamlNode>> _entries = [];

    public int Count => _entries.Count;

    /// <summary>Adds an entry; <see langword="null"/> values are left out, so optional fields read naturally at the call site.</summary>
    public void Add(string key, YamlNode? value)
    {
        if (value is not null)
        {
            _entries.Add(new(key, value));
        }
    }

    public void Add(string key, string? value) => Add(key, value is null ? null : new YamlString(value));

    public void Add(string key, long value) => Add(key, new YamlInt(value));

    public void Add(string key, bool value) => Add(key, new YamlBool(value));

    public IEnumerator<KeyValuePair<string, YamlNode>> GetEnumerator() => _entries.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// Writes <see cref="YamlNode"/> trees as block-style YAML 1.2 that YAML 1.1 parsers read the same way: every string
/// (keys included, when they are not plain identifiers) is a double-quoted scalar with JSON escapes, which YAML
/// accepts verbatim. Output is UTF-8 with <c>\n</c> newlines and nothing that depends on the machine.
/// </summary>
internal static class YamlWriter
{
    public static string Write(YamlNode document)
    {
        var text = new StringBuilder();
        WriteValue(text, document, 0, inSequence: false);
        return text.ToString();
    }

    private static void WriteValue(StringBuilder text, YamlNode node, int indent, bool inSequence)
    {
        switch (node)
        {
            case YamlMap { Count: 0 }:
                text.Append("{}\n");
                break;
            case YamlSeq { Items.Count: 0 }:
                text.Append("[]\n");
                break;
            case YamlMap map:
                var first = true;
                foreach (var (key, value) in map)
                {
                    // The first entry of a map inside a sequence shares the "- " line.
                    if (!(first && inSequence))
                    {
                        text.Append(' ', indent);
                    }

                    first = false;
                    text.Append(Key(key)).Append(':');
                    WriteChild(text, value, indent + 2);
                }

                break;
            case YamlSeq seq:
                foreach (var item in seq.Items)
                {
                    text.Append(' ', indent).Append("- ");
                    if (item is YamlMap { Count: > 0 } or YamlSeq { Items.Count: > 0 })
                    {
                        if (item is YamlSeq)
                        {
                            text.Append('\n');
                            WriteValue(text, item, indent + 2, inSequence: false);
                        }
                        else
                        {
                            WriteValue(text, item, indent + 2, inSequence: true);
                        }
                    }
                    else
                    {
                        WriteValue(text, item, indent + 2, inSequence: false);
                    }
                }

                break;
            default:
                text.Append(Scalar(node)).Append('\n');
                break;
        }
    }

    private static void WriteChild(StringBuilder text, YamlNode value, int indent)
    {
        if (value is YamlMap { Count: > 0 } or YamlSeq { Items.Count: > 0 })
        {
            text.Append('\n');
            WriteValue(text, value, indent, inSequence: false);
        }
        else
        {
            text.Append(' ');
            WriteValue(text, value, indent, inSequence: false);
        }
    }

    private static string Scalar(YamlNode node) => node switch
    {
        YamlString s => Quote(s.Value),
        YamlInt i => i.Value.ToString(CultureInfo.InvariantCulture),
        YamlBool b => b.Value ? "true" : "false",
        _ => throw new InvalidOperationException($"Not a scalar: {node.GetType().Name}"),
    };

    private static string Key(string key) => key.Length > 0 && char.IsAsciiLetter(key[0]) && key.All(char.IsAsciiLetterOrDigit) && !IsReserved(key) ? key : Quote(key);

    // Plain keys that a YAML 1.1 parser would read as booleans or null.
    private static bool IsReserved(string key) => key.ToLowerInvariant() is "y" or "n" or "yes" or "no" or "on" or "off" or "true" or "false" or "null";

    /// <summary>
    /// A double-quoted scalar. Only what YAML forbids or would fold is escaped (quotes, backslashes, control and
    /// non-printable characters, line and paragraph separators), so digests, URLs and arguments stay readable.
    /// </summary>
    internal static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\t': text.Append("\\t"); break;
                case '\r': text.Append("\\r"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        text.Append(c).Append(value[++i]);
                    }
                    else if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c is '\u2028' or '\u2029' or '\uFEFF' or '\uFFFE' or '\uFFFF' || char.IsSurrogate(c))
                    {
                        text.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }
        }

        return text.Append('"').ToString();
    }
}
