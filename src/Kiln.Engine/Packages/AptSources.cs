namespace Kiln.Engine.Packages;

/// <summary>
/// Finds the Debian mirror the machine's apt uses, from the source files the edge passes in: deb822
/// <c>*.sources</c> (Types/URIs/Suites) and one-line <c>sources.list</c> (<c>deb [options] URI suite components</c>).
/// https://manpages.debian.org/bookworm/apt/sources.list.5.en.html
/// </summary>
internal static class AptSources
{
    /// <summary>
    /// The first <c>deb</c> URI that serves <paramref name="suite"/>, else the first one laid out as a Debian archive
    /// (<c>…/debian</c>), else null. Another distribution's archive (Ubuntu's, say) never serves a Debian suite, so it
    /// is not taken for one: the caller falls back to the official mirror instead.
    /// </summary>
    public static Uri? Mirror(IEnumerable<string> files, string suite)
    {
        var sources = files.Where(File.Exists).SelectMany(Read).Where(s => s.Uri is not null).Select(s => (Uri: Normalize(s.Uri!), s.Suites)).ToList();
        return sources.FirstOrDefault(s => s.Suites.Contains(suite)).Uri
            ?? sources.FirstOrDefault(s => s.Uri.AbsolutePath.EndsWith("/debian/", StringComparison.Ordinal)).Uri;
    }

    /// <summary>The first <c>deb</c> URI that serves exactly <paramref name="suite"/>, or null.</summary>
    public static Uri? Serving(IEnumerable<string> files, string suite) =>
        files.Where(File.Exists).SelectMany(Read).Where(s => s.Suites.Contains(suite)).Select(s => s.Uri).FirstOrDefault() is { } uri ? Normalize(uri) : null;

    /// <summary>
    /// The security archive beside a Debian mirror: <c>…/debian/</c> becomes <c>…/debian-security/</c> (how
    /// deb.debian.org and the official mirrors lay it out); any other mirror is taken to serve the security suite itself.
    /// </summary>
    public static Uri SecurityArchive(Uri mirror) =>
        mirror.AbsolutePath.EndsWith("/debian/", StringComparison.Ordinal)
            ? new Uri(mirror, "../debian-security/")
            : mirror;

    /// <summary>A mirror URI that relative paths (<c>dists/…</c>, <c>pool/…</c>) resolve under.</summary>
    public static Uri Normalize(string uri) => new(uri.EndsWith('/') ? uri : uri + "/", UriKind.Absolute);

    private static IEnumerable<(string? Uri, string[] Suites)> Read(string path)
    {
        var text = File.ReadAllText(path);
        if (path.EndsWith(".sources", StringComparison.Ordinal))
        {
            foreach (var paragraph in ControlParagraph.Parse(string.Join("\n", text.Split('\n').Where(l => !l.TrimStart().StartsWith('#')))))
            {
                if ((paragraph["Types"] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("deb")
                    && !string.Equals(paragraph["Enabled"], "no", StringComparison.OrdinalIgnoreCase)
                    && paragraph["URIs"] is { } uris)
                {
                    var suites = (paragraph["Suites"] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    foreach (var uri in uris.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
                    {
                        yield return (uri, suites);
                    }
                }
            }

            yield break;
        }

        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Split('#')[0].Trim();
            if (!line.StartsWith("deb ", StringComparison.Ordinal))
            {
                continue;
            }

            line = line[4..].Trim();
            if (line.StartsWith('['))
            {
                line = line[(line.IndexOf(']') + 1)..].Trim();
            }

            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2)
            {
                yield return (parts[0], [parts[1]]);
            }
        }
    }
}
