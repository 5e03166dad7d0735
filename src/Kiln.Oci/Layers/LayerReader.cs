using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Kiln.Oci;

/// <summary>
/// Inventories a layer written by any tool (GNU tar, Docker, BuildKit, umoci, Kiln): ustar, GNU and PAX
/// headers, plain, gzip- or zstd-compressed (detected from the content, whatever the media type says). Hard links are
/// returned as files with their target's size and hash and <see cref="LayerFileRecord.LinkTarget"/> set;
/// whiteouts (<c>.wh.*</c>) are returned as-is with <see cref="EntryKind.Whiteout"/>.
/// </summary>
public static class LayerReader
{
    /// <summary>Reads every entry of the layer, hashing each regular file. Lazy: the stream is read as the
    /// sequence is enumerated.</summary>
    /// <exception cref="OciFormatException">The blob is not a tar (plain, gzip- or zstd-compressed).</exception>
    public static IEnumerable<LayerFileRecord> ReadFiles(Stream blob, string mediaType)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(mediaType);
        return Read(blob, mediaType);
    }

    private static IEnumerable<LayerFileRecord> Read(Stream blob, string mediaType)
    {
        using Stream tar = new TarInputGuard(Decompress(blob, mediaType));
        using var reader = new TarReader(tar, leaveOpen: true);
        var regularFiles = new Dictionary<string, (long Size, string? Sha256)>(StringComparer.Ordinal);
        byte[] buffer = new byte[128 * 1024];
        while (true)
        {
            LayerFileRecord? record;
            try
            {
                var entry = reader.GetNextEntry();
                if (entry is null)
                {
                    yield break;
                }

                record = ToRecord(entry, regularFiles, buffer);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException
                or OverflowException or InvalidOperationException or NotSupportedException or ZstdSharp.ZstdException)
            {
                // System.Formats.Tar reports some malformed headers (numbers that overflow, a long-name entry larger
                // than it allows) with OverflowException and InvalidOperationException, and entry types it cannot read
                // (GNU sparse files) with NotSupportedException; ZstdSharp reports corrupt zstd data with ZstdException.
                throw new OciFormatException($"Layer ({mediaType}) is not a valid tar: {e.Message}", e);
            }

            if (record is not null)
            {
                yield return record;
            }
        }
    }

    private static LayerFileRecord? ToRecord(TarEntry entry, Dictionary<string, (long, string?)> regularFiles, byte[] buffer)
    {
        string path = NormalizeName(entry.Name);
        int mode = (int)entry.Mode & 0xFFF;
        int uid = entry.Uid;
        int gid = entry.Gid;
        string fileName = path[(path.LastIndexOf('/') + 1)..];
        if (fileName.StartsWith(".wh.", StringComparison.Ordinal))
        {
            return new LayerFileRecord(path, EntryKind.Whiteout, mode, uid, gid, 0, null, null);
        }

        switch (entry.EntryType)
        {
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                var (size, sha) = Hash(entry.DataStream, buffer);
                regularFiles[path] = (size, sha);
                return new LayerFileRecord(path, EntryKind.File, mode, uid, gid, size, sha, null);
            case TarEntryType.HardLink:
                string target = NormalizeName(entry.LinkName);
                var (targetSize, targetSha) = regularFiles.TryGetValue(target, out var t) ? t : (0, null);
                regularFiles[path] = (targetSize, targetSha);
                return new LayerFileRecord(path, EntryKind.File, mode, uid, gid, targetSize, targetSha, target);
            case TarEntryType.SymbolicLink:
                return new LayerFileRecord(path, EntryKind.Symlink, mode, uid, gid, 0, null, entry.LinkName);
            case TarEntryType.Directory:
                return new LayerFileRecord(path, EntryKind.Directory, mode, uid, gid, 0, null, null);
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                return new LayerFileRecord(path, EntryKind.Special, mode, uid, gid, 0, null, null);
            default:
                // Global PAX headers and other metadata-only entries describe no file.
                return null;
        }
    }

    private static (long Size, string Sha256) Hash(Stream? data, byte[] buffer)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        if (data is not null)
        {
            int read;
            while ((read = data.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                size += read;
            }
        }

        return (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>"./usr/bin/", "usr/bin", "/usr/bin" → "/usr/bin"; "." or "./" → "/".</summary>
    internal static string NormalizeName(string name)
    {
        var segments = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".");
        return "/" + string.Join('/', segments);
    }

    private static Stream Decompress(Stream blob, string mediaType)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = blob.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        var prefixed = new PrefixedStream(magic[..read].ToArray(), blob);
        if (read >= 2 && magic[0] == 0x1F && magic[1] == 0x8B)
        {
            return new GZipStream(prefixed, CompressionMode.Decompress);
        }

        if (read == 4 && magic.SequenceEqual<byte>([0x28, 0xB5, 0x2F, 0xFD]))
        {
            // Reads every frame in turn: a zstd stream may be several frames (Kiln writes one per block).
            return new ZstdSharp.DecompressionStream(prefixed);
        }

        return prefixed;
    }

    /// <summary>Replays bytes already read (to sniff the format) before the rest of the inner stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
