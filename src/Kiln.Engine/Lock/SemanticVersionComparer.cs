using System.Globalization;

namespace Kiln.Engine.Lock;

/// <summary>
/// SemVer 2.0.0 precedence (semver.org, section 11), so that lineage names the version a new one succeeds rather than
/// whichever was built last. Versions were validated at evaluation; anything unparsable sorts by ordinal text.
/// </summary>
internal sealed class SemanticVersionComparer : IComparer<string>
{
    public static SemanticVersionComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        var (xCore, xPre) = Split(x);
        var (yCore, yPre) = Split(y);
        var xs = xCore.Split('.');
        var ys = yCore.Split('.');
        for (var i = 0; i < Math.Max(xs.Length, ys.Length); i++)
        {
            var c = CompareIdentifier(i < xs.Length ? xs[i] : "0", i < ys.Length ? ys[i] : "0");
            if (c != 0)
            {
                return c;
            }
        }

        // A version without a pre-release has higher precedence than one with.
        if (xPre is null || yPre is null)
        {
            return xPre is null ? (yPre is null ? 0 : 1) : -1;
        }

        var xp = xPre.Split('.');
        var yp = yPre.Split('.');
        for (var i = 0; i < Math.Min(xp.Length, yp.Length); i++)
        {
            var c = CompareIdentifier(xp[i], yp[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return xp.Length.CompareTo(yp.Length);
    }

    private static (string Core, string? PreRelease) Split(string version)
    {
        var plus = version.IndexOf('+');
        if (plus >= 0)
        {
            version = version[..plus];
        }

        var dash = version.IndexOf('-');
        return dash < 0 ? (version, null) : (version[..dash], version[(dash + 1)..]);
    }

    /// <summary>Numeric identifiers compare numerically and below alphanumeric ones.</summary>
    private static int CompareIdentifier(string a, string b)
    {
        var aNumeric = ulong.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var an);
        var bNumeric = ulong.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var bn);
        return (aNumeric, bNumeric) switch
        {
            (true, true) => an.CompareTo(bn),
            (true, false) => -1,
            (false, true) => 1,
            _ => string.CompareOrdinal(a, b),
        };
    }
}
