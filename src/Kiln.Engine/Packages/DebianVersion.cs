namespace Kiln.Engine.Packages;

/// <summary>
/// Compares Debian version strings the way dpkg does ([epoch:]upstream[-revision], '~' sorting before everything,
/// letters before other characters, digit runs numerically at any length). https://www.debian.org/doc/debian-policy/ch-controlfields.html#version
/// </summary>
internal static class DebianVersion
{
    public static int Compare(string a, string b)
    {
        var (epochA, upstreamA, revisionA) = Split(a);
        var (epochB, upstreamB, revisionB) = Split(b);
        var epoch = epochA.CompareTo(epochB);
        if (epoch != 0)
        {
            return epoch;
        }

        var upstream = ComparePart(upstreamA, upstreamB);
        return upstream != 0 ? upstream : ComparePart(revisionA, revisionB);
    }

    /// <summary>Whether <paramref name="version"/> satisfies <c>(op constraint)</c>; a null operator is always satisfied.</summary>
    public static bool Satisfies(string version, string? op, string? constraint)
    {
        if (op is null || constraint is null)
        {
            return true;
        }

        var c = Compare(version, constraint);
        return op switch
        {
            "<<" or "<" => c < 0,
            "<=" => c <= 0,
            "=" => c == 0,
            ">=" => c >= 0,
            ">>" or ">" => c > 0,
            _ => false,
        };
    }

    private static (long Epoch, string Upstream, string Revision) Split(string version)
    {
        long epoch = 0;
        var colon = version.IndexOf(':');
        if (colon > 0 && long.TryParse(version.AsSpan(0, colon), out var e))
        {
            epoch = e;
            version = version[(colon + 1)..];
        }

        var dash = version.LastIndexOf('-');
        return dash < 0 ? (epoch, version, "") : (epoch, version[..dash], version[(dash + 1)..]);
    }

    private static int Order(char c) => c switch
    {
        '~' => -1,
        _ when char.IsAsciiDigit(c) => 0,
        _ when char.IsAsciiLetter(c) => c,
        _ => c + 256,
    };

    private static int ComparePart(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            // Non-digit prefix, character by character (end of string sorts after '~' and before anything else).
            while ((i < a.Length && !char.IsAsciiDigit(a[i])) || (j < b.Length && !char.IsAsciiDigit(b[j])))
            {
                var ca = i < a.Length ? Order(a[i]) : 0;
                var cb = j < b.Length ? Order(b[j]) : 0;
                if (ca != cb)
                {
                    return ca - cb;
                }

                i++;
                j++;
            }

            // Digit runs compare as numbers of any length, as dpkg's verrevcmp does: leading zeros dropped, then the
            // longer run is larger, else the first differing digit decides. Parsing into an integer would overflow.
            while (i < a.Length && a[i] == '0')
            {
                i++;
            }

            while (j < b.Length && b[j] == '0')
            {
                j++;
            }

            var firstDiff = 0;
            while (i < a.Length && char.IsAsciiDigit(a[i]) && j < b.Length && char.IsAsciiDigit(b[j]))
            {
                if (firstDiff == 0)
                {
                    firstDiff = a[i] - b[j];
                }

                i++;
                j++;
            }

            if (i < a.Length && char.IsAsciiDigit(a[i]))
            {
                return 1;
            }

            if (j < b.Length && char.IsAsciiDigit(b[j]))
            {
                return -1;
            }

            if (firstDiff != 0)
            {
                return firstDiff;
            }
        }

        return 0;
    }
}
