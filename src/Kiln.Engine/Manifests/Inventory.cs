using System.Globalization;
using System.Text;
using Kiln.Oci;

namespace Kiln.Engine.Manifests;

/// <summary>
/// The file inventory of an image's final root file system: every path with its type, mode, owner, size and SHA-256,
/// after applying all layers in order (whiteouts included). It is the baseline <c>kiln verify</c> checks instances against.
/// </summary>
/// <remarks>
/// Format (UTF-8, '\n', sorted by ordinal path, one entry per line, tab-separated):
/// <c>path type mode uid gid size sha256 link</c>, where type is f (file), d (directory), l (symlink) or s (device or FIFO), mode is octal, and sha256 / link are '-'
/// when they do not apply. Tabs, newlines and backslashes in paths are escaped as \t, \n and \\.
/// </remarks>
public sealed class Inventory
{
    public const string Header = "# kiln inventory v1\tpath\ttype\tmode\tuid\tgid\tsize\tsha256\tlink";

    private readonly SortedDictionary<string, LayerFileRecord> _files = new(StringComparer.Ordinal);

    public IReadOnlyCollection<LayerFileRecord> Files => _files.Values;

    /// <summary>
    /// Applies one layer on top of what is there. Whiteouts hide what lower layers hold, never what this layer adds
    /// (OCI image spec, "Whiteouts"), so they are applied first.
    /// </summary>
    public void Apply(IEnumerable<LayerFileRecord> layer)
    {
        var entries = layer.Select(r => (Record: r, Path: Normalize(r.Path))).ToList();
        foreach (var (_, path) in entries)
        {
            var (parent, name) = Split(path);
            if (name == ".wh..wh..opq")
            {
                RemoveBelow(parent);
            }
            else if (name.StartsWith(".wh.", StringComparison.Ordinal))
            {
                var target = (parent == "/" ? "/" : parent + "/") + name[4..];
                _files.Remove(target);
                RemoveBelow(target);
            }
        }

        foreach (var (record, path) in entries.Where(e => !Split(e.Path).Name.StartsWith(".wh.", StringComparison.Ordinal)))
        {
            if (record.Kind != EntryKind.Directory)
            {
                RemoveBelow(path); // a file replacing a directory hides what was under it
            }

            _files[path] = record with { Path = path };
        }
    }

    private static (string Parent, string Name) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return (slash <= 0 ? "/" : path[..slash], path[(slash + 1)..]);
    }

    private void RemoveBelow(string directory)
    {
        var prefix = directory == "/" ? "/" : directory + "/";
        foreach (var key in _files.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k != directory).ToList())
        {
            _files.Remove(key);
        }
    }

    /// <summary>'/a/b', './a/b', 'a//b/' → '/a/b'; dot files keep their names.</summary>
    private static string Normalize(string path) =>
        "/" + string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(segment => segment != "."));

    /// <summary>The inventory text; its SHA-256 is the inventory digest recorded in the Kiln manifest.</summary>
    public byte[] ToBytes()
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var f in _files.Values)
        {
            var type = f.Kind switch { EntryKind.Directory => "d", EntryKind.Symlink => "l", EntryKind.Special => "s", _ => "f" };
            text.Append(Escape(f.Path)).Append('\t')
                .Append(type).Append('\t')
                .Append(Convert.ToString(f.Mode & 0xFFF, 8).PadLeft(4, '0')).Append('\t')
                .Append(f.Uid.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(f.Gid.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(f.Size.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(f.Sha256Hex ?? "-").Append('\t')
                .Append(f.LinkTarget is null ? "-" : Escape(f.LinkTarget)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\t", "\\t").Replace("\n", "\\n");
}
