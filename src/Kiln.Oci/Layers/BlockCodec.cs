using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.IO.Hashing;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Kiln.Oci;

/// <summary>
/// Compresses a stream cut into fixed-size blocks, each block on its own, so that blocks can be compressed on any
/// number of threads and concatenated in order into one valid stream. <see cref="Compress"/> must be a pure function
/// of (block, final): that is what makes the output the same for any core count.
/// </summary>
internal abstract class BlockCodec : IDisposable
{
    public static BlockCodec Create(LayerCompression compression, int level) => compression switch
    {
        LayerCompression.Gzip => new GzipBlockCodec(level),
        LayerCompression.Zstd => new ZstdBlockCodec(level),
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "Unknown layer compression."),
    };

    /// <summary>Bytes before the first block.</summary>
    public virtual void WriteHeader(Stream output)
    {
    }

    /// <summary>Sees the uncompressed bytes once, in order (for a checksum the trailer needs).</summary>
    public virtual void Append(ReadOnlySpan<byte> uncompressed)
    {
    }

    /// <summary>Bytes after the last block.</summary>
    public virtual void WriteTrailer(Stream output, long uncompressedLength)
    {
    }

    /// <summary>An output buffer of this size always holds a compressed block of <paramref name="length"/> bytes.</summary>
    public abstract int MaxCompressedSize(int length);

    /// <summary>Compresses one block into <paramref name="output"/> and returns the bytes written. Thread-safe.</summary>
    public abstract int Compress(ReadOnlySpan<byte> block, bool final, byte[] output);

    public virtual void Dispose()
    {
    }
}

/// <summary>
/// gzip (RFC 1952) the way pigz -i writes it: every block is raw deflate of its own, ended by a sync flush (an empty
/// stored block, so the next block starts on a byte boundary) except the last, which ends with the final bit; the
/// header is fixed and the CRC-32 is taken over the uncompressed stream in order.
/// </summary>
internal sealed class GzipBlockCodec(int level) : BlockCodec
{
    private readonly Crc32 _crc = new();

    public override void WriteHeader(Stream output) =>
        // ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0, XFL=0, OS=255 (unknown): the same on every host.
        output.Write([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF]);

    public override void Append(ReadOnlySpan<byte> uncompressed) => _crc.Append(uncompressed);

    public override void WriteTrailer(Stream output, long uncompressedLength)
    {
        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, _crc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..], unchecked((uint)uncompressedLength));
        output.Write(trailer);
    }

    // zlib's deflateBound is n + n/4096 + n/16384 + 13; the sync flush and the final empty block add a few bytes more.
    public override int MaxCompressedSize(int length) => length + (length >> 10) + 1024;

    public override int Compress(ReadOnlySpan<byte> block, bool final, byte[] output)
    {
        // Never empty: a block is handed on only when the next byte arrives, and a tar ends with 1024 zero bytes.
        using var memory = new MemoryStream(output, 0, output.Length, writable: true, publiclyVisible: true);
        var deflate = new DeflateStream(memory, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true);
        deflate.Write(block);
        if (final)
        {
            deflate.Dispose();
            return (int)memory.Position;
        }

        // Flush is a sync flush: everything so far, byte-aligned, ending with 00 00 FF FF. Disposing then appends an
        // empty final block, which is cut off: the next block continues the stream.
        deflate.Flush();
        int length = (int)memory.Position;
        deflate.Dispose();
        return length;
    }
}

/// <summary>
/// zstd (RFC 8878) as a sequence of frames, one per block (decoders read concatenated frames as one stream), each
/// with its content size and checksum, no dictionary, single-threaded inside: the frame is a function of the block,
/// the level and the pinned ZstdSharp version only.
/// </summary>
internal sealed class ZstdBlockCodec(int level) : BlockCodec
{
    // A compression context is reused rather than recreated per block (it is large); each Wrap starts a fresh frame.
    private readonly ConcurrentBag<Compressor> _idle = [];

    public override int MaxCompressedSize(int length) => (int)Compressor.GetCompressBoundLong((ulong)length);

    public override int Compress(ReadOnlySpan<byte> block, bool final, byte[] output)
    {
        if (!_idle.TryTake(out var compressor))
        {
            compressor = new Compressor(level);
            compressor.SetParameter(ZSTD_cParameter.ZSTD_c_contentSizeFlag, 1);
            compressor.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
            compressor.SetParameter(ZSTD_cParameter.ZSTD_c_dictIDFlag, 0);
            compressor.SetParameter(ZSTD_cParameter.ZSTD_c_nbWorkers, 0);
        }

        try
        {
            return compressor.Wrap(block, output);
        }
        finally
        {
            _idle.Add(compressor);
        }
    }

    public override void Dispose()
    {
        while (_idle.TryTake(out var compressor))
        {
            compressor.Dispose();
        }
    }
}
