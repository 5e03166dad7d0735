using System.Buffers;
using System.Collections.Immutable;
using System.Security.Cryptography;
using Kiln.Oci.IO;

namespace Kiln.Oci;

/// <summary>
/// Writes a deterministic <c>tar+gzip</c> or <c>tar+zstd</c> layer
/// (https://github.com/opencontainers/image-spec/blob/v1.1.1/layer.md) in one streaming pass: tar → SHA-256 (diff_id)
/// → fixed-size blocks compressed in parallel → SHA-256 (digest) → destination. Each regular file's SHA-256 is
/// computed while it is copied, so no file is read twice.
/// </summary>
/// <remarks>
/// Determinism: entries sorted by ordinal path, parent directories emitted explicitly, every mtime =
/// <see cref="LayerWriterOptions.Timestamp"/>, owner and mode as declared, uname/gname empty, GNU tar format
/// without PAX headers. The tar is cut into blocks of <see cref="BlockSize"/> (a constant, never derived from the
/// core count), each compressed on its own and written in order, so the bytes are the same for any number of
/// workers. gzip: the header is written here (MTIME 0, XFL 0, OS 255), so the bytes do not depend on the host OS;
/// the deflate stream is .NET's bundled zlib-ng at the given level, so the compressed digest can change with the
/// runtime's zlib-ng version while the diff_id cannot. zstd: one frame per block from the ZstdSharp version Kiln pins.
/// </remarks>
public static class LayerWriter
{
    /// <summary>
    /// The uncompressed size of each independently compressed block. Part of the format: changing it changes the
    /// compressed digest of every layer larger than one block (a layer of at most one block is one plain deflate
    /// stream or zstd frame).
    /// </summary>
    public const int BlockSize = 1024 * 1024;

    /// <exception cref="ArgumentException">An entry is invalid (path, mode, missing link target...).</exception>
    /// <exception cref="LayerConflictException">Two entries disagree about one path.</exception>
    /// <exception cref="IOException">A source file could not be read or changed while it was read.</exception>
    public static LayerResult Write(IEnumerable<LayerEntry> entries, Stream destination, LayerWriterOptions options)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(options);
        var compression = options.Compression;
        string mediaType = compression.MediaType();
        int level = options.CompressionLevel ?? compression.DefaultLevel();
        var (minLevel, maxLevel) = compression == LayerCompression.Gzip ? (0, 9) : (1, 19);
        if (level < minLevel || level > maxLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(options), level, $"CompressionLevel of {compression} must be {minLevel}–{maxLevel}.");
        }

        int workers = options.Workers ?? Environment.ProcessorCount;
        if (workers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), workers, "Workers must be at least 1.");
        }

        long mtime = options.Timestamp.ToUnixTimeSeconds();
        if (mtime < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Timestamp, "Timestamp must not be before the Unix epoch.");
        }

        SortedDictionary<string, LayerEntry> plan = Plan(entries);
        var files = ImmutableArray.CreateBuilder<LayerFileRecord>(plan.Count);
        using var sink = new LayerSink(destination, BlockCodec.Create(compression, level), workers);
        using var fileHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> fileHashBytes = stackalloc byte[SHA256.HashSizeInBytes];
        foreach (var (path, entry) in plan)
        {
            string name = path[1..];
            switch (entry.Kind)
            {
                case EntryKind.Directory:
                    TarFormat.WriteHeader(sink.Write, name + "/", TarFormat.Directory, entry.Mode, entry.Uid, entry.Gid, 0, mtime, null);
                    files.Add(new LayerFileRecord(path, EntryKind.Directory, entry.Mode, entry.Uid, entry.Gid, 0, null, null));
                    break;
                case EntryKind.Symlink:
                    TarFormat.WriteHeader(sink.Write, name, TarFormat.SymbolicLink, entry.Mode, entry.Uid, entry.Gid, 0, mtime, entry.LinkTarget);
                    files.Add(new LayerFileRecord(path, EntryKind.Symlink, entry.Mode, entry.Uid, entry.Gid, 0, null, entry.LinkTarget));
                    break;
                default:
                    long size = WriteFile(sink, name, entry, mtime, fileHash);
                    fileHash.GetHashAndReset(fileHashBytes);
                    files.Add(new LayerFileRecord(
                        path, EntryKind.File, entry.Mode, entry.Uid, entry.Gid, size, Convert.ToHexStringLower(fileHashBytes), null));
                    break;
            }
        }

        // End of archive: two zero blocks (no padding to GNU tar's 10 KiB record: readers do not need it).
        sink.WriteZeros(2 * TarFormat.BlockSize);
        var (diffId, digest, compressedSize, uncompressedSize) = sink.Complete();
        return new LayerResult(diffId, digest, compressedSize, uncompressedSize, files.ToImmutable()) { MediaType = mediaType };
    }

    /// <summary>True when content starting with <paramref name="firstBytes"/> is meant to be executed: an ELF
    /// binary or a script with a "#!" line. Used to choose 0755 over 0644 without looking at host permissions.</summary>
    public static bool LooksExecutable(ReadOnlySpan<byte> firstBytes) =>
        firstBytes.StartsWith("\x7F"u8 + "ELF"u8) || firstBytes.StartsWith("#!"u8);

    private static long WriteFile(LayerSink sink, string name, LayerEntry entry, long mtime, IncrementalHash fileHash)
    {
        if (entry.SourcePath is null)
        {
            ReadOnlySpan<byte> content = entry.Content is { } c ? c.Span : default;
            TarFormat.WriteHeader(sink.Write, name, TarFormat.RegularFile, entry.Mode, entry.Uid, entry.Gid, content.Length, mtime, null);
            fileHash.AppendData(content);
            sink.Write(content);
            sink.WriteZeros(TarFormat.PaddingFor(content.Length));
            return content.Length;
        }

        using var source = new FileStream(entry.SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        long size = source.Length;
        TarFormat.WriteHeader(sink.Write, name, TarFormat.RegularFile, entry.Mode, entry.Uid, entry.Gid, size, mtime, null);
        long remaining = size;
        while (remaining > 0)
        {
            Span<byte> target = sink.GetSpan();
            if (target.Length > remaining)
            {
                target = target[..(int)remaining];
            }

            int read = source.Read(target);
            if (read == 0)
            {
                throw new IOException($"'{entry.SourcePath}' shrank while it was being written into the layer (expected {size} bytes).");
            }

            fileHash.AppendData(target[..read]);
            sink.Advance(read);
            remaining -= read;
        }

        if (source.Read(stackalloc byte[1]) != 0)
        {
            throw new IOException($"'{entry.SourcePath}' grew while it was being written into the layer (expected {size} bytes).");
        }

        sink.WriteZeros(TarFormat.PaddingFor(size));
        return size;
    }

    /// <summary>Normalises and validates the entries, collapses identical duplicates, adds missing parent
    /// directories and sorts by ordinal path.</summary>
    internal static SortedDictionary<string, LayerEntry> Plan(IEnumerable<LayerEntry> entries)
    {
        var plan = new SortedDictionary<string, LayerEntry>(StringComparer.Ordinal);
        foreach (var raw in entries)
        {
            ArgumentNullException.ThrowIfNull(raw);
            string path = LayerEntry.NormalizePath(raw.Path);
            if (path == "/")
            {
                // The root directory is the container's, not the layer's: GNU tar and Docker do not emit it either.
                continue;
            }

            var entry = Validate(raw with { Path = path });
            if (plan.TryGetValue(path, out var existing))
            {
                string? difference = Difference(existing, entry);
                if (difference is not null)
                {
                    throw new LayerConflictException(path, difference);
                }

                continue;
            }

            plan.Add(path, entry);
        }

        var parents = new List<string>();
        foreach (var (path, _) in plan)
        {
            for (int slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
            {
                string parent = path[..slash];
                if (plan.TryGetValue(parent, out var existing))
                {
                    if (existing.Kind != EntryKind.Directory)
                    {
                        throw new LayerConflictException(parent, $"it is a {existing.Kind} but also the parent of '{path}'");
                    }

                    break; // its own parents are checked when it is visited
                }

                parents.Add(parent);
            }
        }

        foreach (string parent in parents)
        {
            plan.TryAdd(parent, new LayerEntry(parent, EntryKind.Directory));
        }

        return plan;
    }

    private static LayerEntry Validate(LayerEntry entry)
    {
        if (entry.Mode is < 0 or > 0xFFF)
        {
            throw new ArgumentException($"Layer entry '{entry.Path}': mode {Convert.ToString(entry.Mode, 8)} is outside 0–7777 (octal).");
        }

        if (entry.Uid < 0 || entry.Gid < 0)
        {
            throw new ArgumentException($"Layer entry '{entry.Path}': uid and gid must not be negative.");
        }

        switch (entry.Kind)
        {
            case EntryKind.File:
                if (entry.SourcePath is not null && entry.Content is not null)
                {
                    throw new ArgumentException($"Layer entry '{entry.Path}': give SourcePath or Content, not both.");
                }

                if (entry.LinkTarget is not null)
                {
                    throw new ArgumentException($"Layer entry '{entry.Path}': a file has no LinkTarget.");
                }

                break;
            case EntryKind.Directory:
                if (entry.SourcePath is not null || entry.Content is not null || entry.LinkTarget is not null)
                {
                    throw new ArgumentException($"Layer entry '{entry.Path}': a directory has no content or link target.");
                }

                break;
            case EntryKind.Symlink:
                if (string.IsNullOrEmpty(entry.LinkTarget) || entry.LinkTarget.Contains('\0'))
                {
                    throw new ArgumentException($"Layer entry '{entry.Path}': a symlink needs a LinkTarget (without NUL).");
                }

                if (entry.SourcePath is not null || entry.Content is not null)
                {
                    throw new ArgumentException($"Layer entry '{entry.Path}': a symlink has no content.");
                }

                break;
            default:
                throw new ArgumentException($"Layer entry '{entry.Path}': kind {entry.Kind} cannot be written.");
        }

        return entry;
    }

    private static string? Difference(LayerEntry a, LayerEntry b)
    {
        if (a.Kind != b.Kind)
        {
            return $"{a.Kind} versus {b.Kind}";
        }

        if (a.Mode != b.Mode)
        {
            return $"mode {Convert.ToString(a.Mode, 8)} versus {Convert.ToString(b.Mode, 8)}";
        }

        if (a.Uid != b.Uid || a.Gid != b.Gid)
        {
            return $"owner {a.Uid}:{a.Gid} versus {b.Uid}:{b.Gid}";
        }

        if (a.LinkTarget != b.LinkTarget)
        {
            return $"link target '{a.LinkTarget}' versus '{b.LinkTarget}'";
        }

        return a.Kind == EntryKind.File && !SameContent(a, b) ? "different content" : null;
    }

    // Only duplicates get here, so reading their content an extra time is rare and cheap.
    private static bool SameContent(LayerEntry a, LayerEntry b)
    {
        if (a.SourcePath is not null && b.SourcePath is not null
            && string.Equals(Path.GetFullPath(a.SourcePath), Path.GetFullPath(b.SourcePath), StringComparison.Ordinal))
        {
            return true;
        }

        return HashContent(a).SequenceEqual(HashContent(b));
    }

    private static byte[] HashContent(LayerEntry entry)
    {
        if (entry.SourcePath is not null)
        {
            using var stream = File.OpenRead(entry.SourcePath);
            return SHA256.HashData(stream);
        }

        return SHA256.HashData(entry.Content is { } c ? c.Span : default);
    }

    /// <summary>
    /// The uncompressed side of the pipeline: fills fixed-size blocks with tar bytes, hashes them in order (diff_id and
    /// the codec's checksum), hands each full block to a worker and writes the compressed blocks in order through the
    /// digest hash to the destination. At most two blocks per worker are in flight (and a process-wide number across
    /// layers), so memory stays bounded. A block is handed on only when the next byte arrives, so the last block is
    /// known to be last; it is compressed on the calling thread, and a layer of one block starts no thread.
    /// </summary>
    private sealed class LayerSink : IDisposable
    {
        private readonly IncrementalHash _diffId = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly HashingStream _compressed;
        private readonly BlockCodec _codec;
        private readonly CompressionWorkers? _workers;
        private readonly int _maxInFlight;
        private readonly Queue<CompressionJob> _inFlight = new();
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        private int _used;
        private long _uncompressedLength;

        public LayerSink(Stream destination, BlockCodec codec, int workers)
        {
            _codec = codec;
            _compressed = new HashingStream(destination, write: true);
            _codec.WriteHeader(_compressed);
            _maxInFlight = 2 * workers;
            if (workers > 1)
            {
                _workers = new CompressionWorkers(workers);
            }
        }

        public void Write(ReadOnlySpan<byte> data)
        {
            while (!data.IsEmpty)
            {
                var target = GetSpan();
                int n = Math.Min(data.Length, target.Length);
                data[..n].CopyTo(target);
                Advance(n);
                data = data[n..];
            }
        }

        public void WriteZeros(int count)
        {
            while (count > 0)
            {
                var target = GetSpan();
                int n = Math.Min(count, target.Length);
                target[..n].Clear();
                Advance(n);
                count -= n;
            }
        }

        /// <summary>The free part of the current block (never empty).</summary>
        public Span<byte> GetSpan()
        {
            if (_used == BlockSize)
            {
                Submit(final: false);
            }

            return _buffer.AsSpan(_used, BlockSize - _used);
        }

        public void Advance(int count) => _used += count;

        public (Digest DiffId, Digest Digest, long Size, long UncompressedSize) Complete()
        {
            Submit(final: true);
            _codec.WriteTrailer(_compressed, _uncompressedLength);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            _diffId.GetHashAndReset(hash);
            return (Digest.FromSha256Hash(hash), _compressed.GetDigest(), _compressed.Length, _uncompressedLength);
        }

        private void Submit(bool final)
        {
            byte[] block = _buffer!;
            int length = _used;
            _buffer = final ? null : ArrayPool<byte>.Shared.Rent(BlockSize);
            _used = 0;
            _diffId.AppendData(block, 0, length);
            _codec.Append(block.AsSpan(0, length));
            _uncompressedLength += length;
            var job = new CompressionJob(_codec, block, length, final);
            if (_workers is not null && !final)
            {
                while (_inFlight.Count >= _maxInFlight)
                {
                    WriteOldest();
                }

                // Past the process-wide bound, make room by writing this layer's own oldest block; with none in
                // flight, compress here. Never wait for a slot: another layer may hold them all while waiting too.
                while (!CompressionWorkers.TryReserveSlot())
                {
                    if (_inFlight.Count == 0)
                    {
                        job.Run();
                        WriteBlock(job);
                        return;
                    }

                    WriteOldest();
                }

                _inFlight.Enqueue(job);
                _workers.Start(job);
                return;
            }

            // Inline: the only path with one worker; with more, the last block, compressed while the workers finish.
            job.Run();
            while (_inFlight.Count > 0)
            {
                WriteOldest();
            }

            WriteBlock(job);
        }

        private void WriteOldest()
        {
            var job = _inFlight.Dequeue();
            try
            {
                WriteBlock(job);
            }
            finally
            {
                CompressionWorkers.ReleaseSlot();
            }
        }

        private void WriteBlock(CompressionJob job)
        {
            job.Wait();
            _compressed.Write(job.Output!, 0, job.OutputLength);
            ArrayPool<byte>.Shared.Return(job.Output!);
        }

        public void Dispose()
        {
            // After a failure (a source file that changed, a full disk) blocks may still be queued: the workers finish
            // them (they own the buffers) and stop; their output is dropped, the failure being reported is the caller's.
            _workers?.Dispose();
            while (_inFlight.TryDequeue(out _))
            {
                CompressionWorkers.ReleaseSlot();
            }

            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }

            _codec.Dispose();
            _diffId.Dispose();
            _compressed.Dispose();
        }
    }
}
