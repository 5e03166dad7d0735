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

    // The same paths as a sorted set, for range queries: everything below a directory is one contiguous range of
    // ordinal order, so removing a subtree costs its size, not a scan of the whole tree.
    private readonly SortedSet<string> _paths = new(StringComparer.Ordinal);

    // While a layer is applied: every change it made, with the entry it replaced (null: none), oldest first.
    private List<(string Path, LayerFileRecord? Previous)>? _undo;

    public IReadOnlyCollection<LayerFileRecord> Files => _files.Values;

    /// <summary>
    /// Applies one layer on top of what is there, as an unpacker (umoci, containerd) would. Whiteouts hide what lower
    /// layers hold, never what this layer adds (OCI image spec, "Whiteouts"), so they are applied first; a later
    /// entry for the same path replaces an earlier one. Entries an unpacker would have to refuse, or would apply
    /// somewhere else than their path says, are refused (<see cref="UnsafeLayerEntryException"/>): a <c>..</c> path,
    /// a hard link to anything but an earlier regular file of the tree, an entry under a symlink or a non-directory
    /// (a write through the link), and device nodes or FIFOs unless <paramref name="allowSpecialFiles"/>.
    /// </summary>
    /// <exception cref="UnsafeLayerEntryException">An entry is refused; nothing of the layer is applied.</exception>
    public void Apply(IEnumerable<LayerFileRecord> layer, bool allowSpecialFiles = false)
    {
        var entries = layer.Select(r => (Record: r, Path: Normalize(r.Path))).ToList();
        foreach (var (record, path) in entries)
        {
            CheckPath(record, path, allowSpecialFiles);
        }

        // Checked against the tree as it is before the layer: whiteouts apply to lower layers only.
        foreach (var (_, path) in entries.Where(e => IsWhiteout(e.Path)))
        {
            CheckParents(path, path);
        }

        // What the layer changes is logged as it goes, so a refused layer is undone at the cost of its own entries.
        var undo = new List<(string Path, LayerFileRecord? Previous)>();
        _undo = undo;
        try
        {
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
                    Remove(target);
                    RemoveBelow(target);
                }
            }

            foreach (var (record, path) in entries.Where(e => !IsWhiteout(e.Path)))
            {
                CheckParents(path, path);
                var applied = record with { Path = path };
                if (record.Kind == EntryKind.File && record.LinkTarget is not null)
                {
                    applied = HardLink(applied, Normalize(record.LinkTarget));
                }

                if (record.Kind != EntryKind.Directory)
                {
                    RemoveBelow(path); // a file replacing a directory hides what was under it
                }

                Set(path, applied);
            }
        }
        catch (UnsafeLayerEntryException)
        {
            // All or nothing: a refused layer leaves the inventory as it was.
            _undo = null;
            for (var i = undo.Count - 1; i >= 0; i--)
            {
                if (undo[i].Previous is { } previous)
                {
                    Set(undo[i].Path, previous);
                }
                else
                {
                    Remove(undo[i].Path);
                }
            }

            throw;
        }
        finally
        {
            _undo = null;
        }
    }

    /// <summary>A copy with the same entries, to apply more layers on without touching this one.</summary>
    public Inventory Clone()
    {
        var copy = new Inventory();
        foreach (var (path, record) in _files)
        {
            copy._files.Add(path, record);
        }

        copy._paths.UnionWith(_paths);
        return copy;
    }

    private static bool IsWhiteout(string path) => Split(path).Name.StartsWith(".wh.", StringComparison.Ordinal);

    private static void CheckPath(LayerFileRecord record, string path, bool allowSpecialFiles)
    {
        if (path.Split('/').Contains(".."))
        {
            throw new UnsafeLayerEntryException(UnsafeEntryKind.EscapesRoot, record.Path, "its path leaves the root file system ('..')");
        }

        if (record.Kind == EntryKind.Special && !allowSpecialFiles)
        {
            throw new UnsafeLayerEntryException(UnsafeEntryKind.SpecialFile, path, "it is a device node or a FIFO");
        }

        if (record.Kind == EntryKind.File && record.LinkTarget is not null && Normalize(record.LinkTarget).Split('/').Contains(".."))
        {
            throw new UnsafeLayerEntryException(UnsafeEntryKind.HardLink, path, $"it is a hard link to '{record.LinkTarget}', outside the root file system");
        }
    }

    /// <summary>Every ancestor must be a real directory: an unpacker resolves a symlink ancestor (and writes
    /// elsewhere than the path says) or fails on a file ancestor.</summary>
    private void CheckParents(string path, string reported)
    {
        for (var slash = path.IndexOf('/', 1); slash > 0; slash = path.IndexOf('/', slash + 1))
        {
            if (_files.TryGetValue(path[..slash], out var ancestor) && ancestor.Kind != EntryKind.Directory)
            {
                var what = ancestor.Kind == EntryKind.Symlink ? $"the symlink '{ancestor.Path}' -> '{ancestor.LinkTarget}'" : $"'{ancestor.Path}', which is not a directory";
                throw new UnsafeLayerEntryException(UnsafeEntryKind.ThroughSymlink, reported, $"its parent path goes through {what}");
            }
        }
    }

    /// <summary>A hard link is the content of an earlier regular file of the tree (this layer or a lower one).</summary>
    private LayerFileRecord HardLink(LayerFileRecord link, string target)
    {
        CheckParents(target, link.Path);
        if (!_files.TryGetValue(target, out var file) || file.Kind != EntryKind.File)
        {
            throw new UnsafeLayerEntryException(UnsafeEntryKind.HardLink, link.Path, $"it is a hard link to '{target}', which is not an earlier regular file of the image");
        }

        return link with { Size = file.Size, Sha256Hex = file.Sha256Hex };
    }

    private static (string Parent, string Name) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return (slash <= 0 ? "/" : path[..slash], path[(slash + 1)..]);
    }

    private void Set(string path, LayerFileRecord record)
    {
        _undo?.Add((path, _files.TryGetValue(path, out var previous) ? previous : null));
        _files[path] = record;
        _paths.Add(path);
    }

    private void Remove(string path)
    {
        if (_files.Remove(path, out var previous))
        {
            _undo?.Add((path, previous));
            _paths.Remove(path);
        }
    }

    private void RemoveBelow(string directory)
    {
        // Paths below "/a" start with "/a/" and sort between "/a/" and "/a0" ('0' follows '/').
        var prefix = directory == "/" ? "/" : directory + "/";
        var end = directory == "/" ? "0" : directory + "0";
        var below = _paths.GetViewBetween(prefix, end);
        if (below.Count == 0)
        {
            return;
        }

        foreach (var key in below.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k != directory).ToList())
        {
            Remove(key);
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

/// <summary>Why a layer entry is refused.</summary>
public enum UnsafeEntryKind
{
    /// <summary>The path leaves the root file system.</summary>
    EscapesRoot,

    /// <summary>A hard link whose target is outside the tree or not an earlier regular file.</summary>
    HardLink,

    /// <summary>An ancestor of the path is a symlink (a write through the link) or not a directory.</summary>
    ThroughSymlink,

    /// <summary>A device node or FIFO.</summary>
    SpecialFile,
}

/// <summary>A layer entry that an unpacker would refuse, or would apply elsewhere than its path says.</summary>
public sealed class UnsafeLayerEntryException : Exception
{
    public UnsafeLayerEntryException(UnsafeEntryKind kind, string path, string reason)
        : base($"entry '{path}' is refused: {reason}")
    {
        Kind = kind;
        EntryPath = path;
        Reason = reason;
    }

    public UnsafeEntryKind Kind { get; }

    public string EntryPath { get; }

    public string Reason { get; }
}
