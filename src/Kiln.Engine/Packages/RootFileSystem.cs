using System.Formats.Tar;
using System.Text;
using Kiln.Engine.Lock;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Packages;

/// <summary>
/// Lays packages' files out the way an installed system has them, without running anything: merged-/usr (bookworm
/// packages still ship some files under /bin and /lib; they are moved under /usr and /bin, /lib… become symlinks,
/// as debootstrap does), a dpkg status entry per package under /var/lib/dpkg/status.d/ (distroless' convention,
/// which image scanners read), and the CA bundle update-ca-certificates would have generated.
/// </summary>
internal static class RootFileSystem
{
    private static readonly string[] Merged = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

    /// <summary>Documentation that no server reads; copyright files stay (licences travel with the binaries).</summary>
    private static readonly string[] Dropped = ["/usr/share/man/", "/usr/share/info/", "/usr/share/lintian/", "/usr/share/doc/"];

    public static IEnumerable<LayerEntry> Assemble(IEnumerable<(LockedPackage Package, DebArchive Deb)> packages)
    {
        var entries = new Dictionary<string, LayerEntry>(StringComparer.Ordinal);
        foreach (var top in Merged)
        {
            entries["/usr/" + top] = LayerEntry.Directory("/usr/" + top);
            entries["/" + top] = LayerEntry.Symlink("/" + top, "usr/" + top) with { Mode = 0x1FF };
        }

        foreach (var (package, deb) in packages)
        {
            var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var file in deb.Files)
            {
                var path = Remap(file.Path);
                if (Merged.Any(m => path == "/usr/" + m && file.Type == TarEntryType.Directory) || IsDropped(path))
                {
                    continue;
                }

                var mode = file.Mode & 0xFFF;
                switch (file.Type)
                {
                    case TarEntryType.Directory:
                        entries.TryAdd(path, LayerEntry.Directory(path) with { Mode = mode, Uid = file.Uid, Gid = file.Gid });
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                        contents[path] = file.Content ?? [];
                        entries[path] = LayerEntry.File(path, file.Content ?? []) with { Mode = mode, Uid = file.Uid, Gid = file.Gid };
                        break;
                    case TarEntryType.HardLink when contents.TryGetValue(Remap(file.LinkTarget!), out var linked):
                        // A copy rather than a hard link: the layer stays simple and the content is the same.
                        entries[path] = LayerEntry.File(path, linked) with { Mode = mode, Uid = file.Uid, Gid = file.Gid };
                        break;
                    case TarEntryType.SymbolicLink:
                        entries[path] = LayerEntry.Symlink(path, RelinkTarget(file.Path, path, file.LinkTarget!)) with { Mode = 0x1FF, Uid = file.Uid, Gid = file.Gid };
                        break;
                    default:
                        break; // devices and FIFOs have no place in a container image
                }
            }

            var status = $"/var/lib/dpkg/status.d/{package.Name}";
            entries[status] = LayerEntry.File(status, Encoding.UTF8.GetBytes(StatusEntry(deb.Control))) with { Mode = 0x1A4 };
        }

        AddCertificateBundle(entries);
        entries["/tmp"] = LayerEntry.Directory("/tmp") with { Mode = 0x3FF | 0x200 }; // 1777
        entries["/etc/nsswitch.conf"] = LayerEntry.File("/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"u8.ToArray());
        return entries.Values;
    }

    /// <summary>/etc/passwd and /etc/group with root, nobody and the spec's account (no login shell: there is none).</summary>
    public static IEnumerable<LayerEntry> Account(Account account)
    {
        var passwd = new StringBuilder("root:x:0:0:root:/root:/usr/sbin/nologin\n");
        var group = new StringBuilder("root:x:0:\n");
        if (account.Uid != 0)
        {
            passwd.Append($"{account.Name}:x:{account.Uid}:{account.Gid}:{account.Name}:/home/{account.Name}:/usr/sbin/nologin\n");
        }

        if (account.Gid != 0)
        {
            group.Append($"{account.Name}:x:{account.Gid}:\n");
        }

        passwd.Append("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
        group.Append("nogroup:x:65534:\n");
        yield return LayerEntry.File("/etc/passwd", Encoding.UTF8.GetBytes(passwd.ToString()));
        yield return LayerEntry.File("/etc/group", Encoding.UTF8.GetBytes(group.ToString()));
        yield return LayerEntry.Directory("/root") with { Mode = 0x1C0 };
        if (account.Uid != 0)
        {
            yield return LayerEntry.Directory("/home");
            yield return LayerEntry.Directory($"/home/{account.Name}") with { Uid = account.Uid, Gid = account.Gid };
        }
    }

    /// <summary>The control paragraph with the Status field dpkg would have added on installation.</summary>
    internal static string StatusEntry(string control)
    {
        var lines = control.Replace("\r\n", "\n").TrimEnd('\n').Split('\n').ToList();
        var at = lines.FindIndex(l => l.StartsWith("Package:", StringComparison.OrdinalIgnoreCase));
        lines.Insert(at + 1, "Status: install ok installed");
        return string.Join("\n", lines) + "\n";
    }

    internal static string Remap(string path)
    {
        foreach (var top in Merged)
        {
            if (path == "/" + top || path.StartsWith("/" + top + "/", StringComparison.Ordinal))
            {
                return "/usr" + path;
            }
        }

        return path;
    }

    /// <summary>A relative symlink that moved under /usr is rewritten so that it still points at the (moved) target.</summary>
    private static string RelinkTarget(string originalPath, string newPath, string target)
    {
        if (target.StartsWith('/') || originalPath == newPath)
        {
            return target;
        }

        var absolute = Remap(Normalize(Path.GetDirectoryName(originalPath)!.Replace('\\', '/') + "/" + target));
        var from = Path.GetDirectoryName(newPath)!.Replace('\\', '/');
        return Path.GetRelativePath(from, absolute).Replace('\\', '/');
    }

    private static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(segment);
        }

        return "/" + string.Join("/", parts);
    }

    private static bool IsDropped(string path) =>
        Dropped.Any(d => path.StartsWith(d, StringComparison.Ordinal) || path + "/" == d)
        && !(path.StartsWith("/usr/share/doc/", StringComparison.Ordinal) && (path.EndsWith("/copyright", StringComparison.Ordinal) || path.Count(c => c == '/') == 4));

    /// <summary>
    /// /etc/ssl/certs/ca-certificates.crt as update-ca-certificates makes it by default: every certificate ca-certificates
    /// ships, in path order.
    /// </summary>
    private static void AddCertificateBundle(Dictionary<string, LayerEntry> entries)
    {
        var certificates = entries.Values
            .Where(e => e.Kind == EntryKind.File && e.Path.StartsWith("/usr/share/ca-certificates/", StringComparison.Ordinal) && e.Path.EndsWith(".crt", StringComparison.Ordinal))
            .OrderBy(e => e.Path, StringComparer.Ordinal)
            .ToList();
        if (certificates.Count == 0)
        {
            return;
        }

        using var bundle = new MemoryStream();
        foreach (var certificate in certificates)
        {
            var content = certificate.Content!.Value.Span;
            bundle.Write(content);
            if (content.Length > 0 && content[^1] != '\n')
            {
                bundle.WriteByte((byte)'\n');
            }
        }

        entries["/etc/ssl/certs/ca-certificates.crt"] = LayerEntry.File("/etc/ssl/certs/ca-certificates.crt", bundle.ToArray());
    }
}
