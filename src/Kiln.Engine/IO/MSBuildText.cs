using System.Globalization;
using System.Text;

namespace Kiln.Engine.IO;

/// <summary>
/// MSBuild's escaping (<c>%XX</c>, the hexadecimal code of the character), for text the engine hands to MSBuild:
/// a path or property value holding <c>;</c>, <c>%</c>, <c>$</c>, <c>@</c> or a wildcard is then taken literally
/// instead of splitting a list, expanding a property or matching files.
/// </summary>
public static class MSBuildText
{
    /// <summary>The characters MSBuild gives a meaning to in item and property text.</summary>
    private const string Special = "%*?@$();'";

    /// <summary>
    /// <paramref name="value"/> with MSBuild's special characters escaped, and every character in
    /// <paramref name="alsoEscape"/> (a file format's own separators) escaped the same way.
    /// </summary>
    public static string Escape(string value, string alsoEscape = "")
    {
        var text = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (Special.Contains(c, StringComparison.Ordinal) || alsoEscape.Contains(c, StringComparison.Ordinal))
            {
                text.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// The text <see cref="Escape"/> escaped, as MSBuild unescapes it (every <c>%XX</c> of two hexadecimal digits);
    /// anything else, a lone <c>%</c> included, stays as it is.
    /// </summary>
    public static string Unescape(string value)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length && char.IsAsciiHexDigit(value[i + 1]) && char.IsAsciiHexDigit(value[i + 2]))
            {
                text.Append((char)int.Parse(value.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                text.Append(value[i]);
            }
        }

        return text.ToString();
    }
}
