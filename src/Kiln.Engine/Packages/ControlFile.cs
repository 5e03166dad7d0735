using System.Text;

namespace Kiln.Engine.Packages;

/// <summary>
/// One paragraph of a Debian control file (deb822: Release, Packages, a .deb's control): field names are
/// case-insensitive, continuation lines start with a space or tab. https://manpages.debian.org/bookworm/dpkg-dev/deb822.5.en.html
/// </summary>
internal sealed class ControlParagraph(Dictionary<string, string> fields, string text)
{
    /// <summary>The paragraph as it was written (used verbatim for dpkg status entries).</summary>
    public string Text { get; } = text;

    public string? this[string field] => fields.GetValueOrDefault(field);

    /// <summary>Reads every paragraph of a control file.</summary>
    public static IEnumerable<ControlParagraph> ReadAll(TextReader reader)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = new StringBuilder();
        string? current = null;
        for (var line = reader.ReadLine(); ; line = reader.ReadLine())
        {
            if (line is null || line.Length == 0)
            {
                if (fields.Count > 0)
                {
                    yield return new ControlParagraph(fields, text.ToString());
                    fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    text.Clear();
                    current = null;
                }

                if (line is null)
                {
                    yield break;
                }

                continue;
            }

            text.Append(line).Append('\n');
            if (line[0] is ' ' or '\t')
            {
                if (current is not null)
                {
                    fields[current] = fields[current] + "\n" + line[1..];
                }

                continue;
            }

            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            current = line[..colon].Trim();
            fields[current] = line[(colon + 1)..].Trim();
        }
    }

    public static IEnumerable<ControlParagraph> Parse(string text) => ReadAll(new StringReader(text));
}
