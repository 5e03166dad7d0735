using System.Collections.Immutable;

namespace Kiln.Oci;

/// <summary>What a layer entry is.</summary>
public enum EntryKind
{
    File,
    Directory,
    Symlink,

    /// <summary>An overlay whiteout (<c>.wh.NAME</c> or <c>.wh..wh..opq</c>), only ever returned by
    /// <see cref="LayerReader"/>; the path is returned as it is in the tar.</summary>
    Whiteout,

    /// <summary>A character device, block device or FIFO, only ever returned by <see cref="LayerReader"/>.</summary>
    Special,
}

/// <summary>
/// One entry to write into a layer. <see cref="Path"/> is the absolute in-image path ("/app/x.dll"); "." and
/// empty segments are normalised away, ".." is rejected. A file's content comes from <see cref="SourcePath"/>
/// or <see cref="Content"/> (neither: an empty file). <see cref="Mode"/> defaults to 0755 for directories,
/// 0644 for files and 0777 for symlinks; it is never taken from the host.
/// </summary>
public sealed record LayerEntry(string Path, EntryKind Kind)
{
    public int Mode { get; init; } = DefaultMode(Kind);

    public int Uid { get; init; }

    public int Gid { get; init; }

    /// <summary>The target of a symlink (required for <see cref="EntryKind.Symlink"/>).</summary>
    public string? LinkTarget { get; init; }

    /// <summary>A file on disk whose content becomes this file's content.</summary>
    public string? SourcePath { get; init; }

    /// <summary>In-memory content, the alternative to <see cref="SourcePath"/>.</summary>
    public ReadOnlyMemory<byte>? Content { get; init; }

    public static LayerEntry Directory(string path) => new(path, EntryKind.Directory);

    public static LayerEntry File(string path, ReadOnlyMemory<byte> content) => new(path, EntryKind.File) { Content = content };

    public static LayerEntry FileFrom(string path, string sourcePath) => new(path, EntryKind.File) { SourcePath = sourcePath };

    public static LayerEntry Symlink(string path, string target) => new(path, EntryKind.Symlink) { LinkTarget = target };

    public static int DefaultMode(EntryKind kind) => kind switch
    {
        EntryKind.Directory => 0x1ED, // 0755
        EntryKind.Symlink => 0x1FF, // 0777
        _ => 0x1A4, // 0644
    };

    /// <summary>Normalises an absolute in-image path: "/a/./b//c/" → "/a/b/c". "/" stays "/".</summary>
    /// <exception cref="ArgumentException">The path is relative, contains "..", a NUL or a backslash.</exception>
    public static string NormalizePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException($"Layer path '{path}' must be absolute (start with '/').", nameof(path));
        }

        if (path.Contains('\0') || path.Contains('\\'))
        {
            throw new ArgumentException($"Layer path '{path}' contains a NUL or a backslash.", nameof(path));
        }

        var parts = new List<string>();
        foreach (string segment in path.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                throw new ArgumentException($"Layer path '{path}' contains '..'.", nameof(path));
            }

            parts.Add(segment);
        }

        return "/" + string.Join('/', parts);
    }
}

/// <summary>Options of <see cref="LayerWriter"/>. The defaults give the canonical Kiln layer.</summary>
public sealed record LayerWriterOptions
{
    /// <summary>The mtime of every entry (SOURCE_DATE_EPOCH or the Unix epoch; never the clock).</summary>
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UnixEpoch;

    /// <summary>gzip (the default) or zstd; decides the media type and the compressed digest, never the diff_id.</summary>
    public LayerCompression Compression { get; init; } = LayerCompression.Gzip;

    /// <summary>The level: gzip 0–9, zstd 1–19; null for <see cref="LayerCompressions.DefaultLevel"/>.</summary>
    public int? CompressionLevel { get; init; }

    /// <summary>
    /// How many blocks are compressed at once; null for one per processor. Only speed and memory depend on it: the
    /// blocks are fixed-size and compressed independently, so any value gives the same bytes.
    /// </summary>
    public int? Workers { get; init; }
}

/// <summary>One entry as written into (or read from) a layer. <see cref="Size"/> and <see cref="Sha256Hex"/>
/// describe a regular file's content (0 and null for other kinds).</summary>
public sealed record LayerFileRecord(
    string Path, EntryKind Kind, int Mode, int Uid, int Gid, long Size, string? Sha256Hex, string? LinkTarget);

/// <summary>The outcome of <see cref="LayerWriter.Write"/>.</summary>
/// <param name="DiffId">SHA-256 of the uncompressed tar (the layer's stable identity, goes into rootfs.diff_ids).</param>
/// <param name="Digest">SHA-256 of the compressed blob (goes into the manifest).</param>
/// <param name="Size">Size of the compressed blob in bytes.</param>
/// <param name="UncompressedSize">Size of the tar in bytes.</param>
/// <param name="Files">Every entry written, in tar order, implicit parent directories included.</param>
public sealed record LayerResult(Digest DiffId, Digest Digest, long Size, long UncompressedSize, ImmutableArray<LayerFileRecord> Files)
{
    /// <summary>The layer's media type (<c>tar+gzip</c> or <c>tar+zstd</c>).</summary>
    public string MediaType { get; init; } = MediaTypes.LayerTarGzip;

    /// <summary>The manifest descriptor of this layer.</summary>
    public Descriptor ToDescriptor() => new(MediaType, Digest, Size);
}

/// <summary>Two entries for the same path disagree (kind, mode, owner, link target or content), or a
/// non-directory is also the parent of another entry.</summary>
public sealed class LayerConflictException : ArgumentException
{
    public LayerConflictException(string path, string reason)
        : base($"Layer entries conflict at '{path}': {reason}.")
    {
        ConflictPath = path;
    }

    public string ConflictPath { get; }
}
