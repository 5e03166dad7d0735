using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Kiln.Oci.Tests;

/// <summary>
/// Block-parallel compression: the bytes never depend on the number of workers, every block boundary yields one
/// valid stream that the real gzip and zstd tools decompress to the exact tar, and a one-block layer is one plain
/// deflate stream.
/// </summary>
public class LayerCompressionTests
{
    /// <summary>About six blocks of mixed content: compressible text, incompressible bytes, many small files.</summary>
    internal static List<LayerEntry> MultiBlockTree()
    {
        var random = new Random(20261130);
        var entries = new List<LayerEntry>();
        string[] words = ["kiln", "layer", "digest", "deflate", "block", "INFO", "WARN", "{\"id\":", "}", "the", "a"];
        for (int i = 0; i < 3; i++)
        {
            var text = new StringBuilder();
            while (text.Length < 1_200_000)
            {
                text.Append(words[random.Next(words.Length)]).Append(random.Next(12) == 0 ? '\n' : ' ');
            }

            entries.Add(LayerEntry.File($"/share/doc/text{i}.txt", Encoding.UTF8.GetBytes(text.ToString())));
            byte[] noise = new byte[700_000 + (i * 1000)];
            random.NextBytes(noise);
            entries.Add(LayerEntry.File($"/lib/blob{i}.bin", noise));
        }

        for (int i = 0; i < 300; i++)
        {
            entries.Add(LayerEntry.File($"/app/wwwroot/s{i % 7}/f{i}.js", Encoding.UTF8.GetBytes(new string('x', random.Next(10, 3000)) + i)));
        }

        return entries;
    }

    private static (LayerResult Result, byte[] Blob) Write(IEnumerable<LayerEntry> entries, LayerCompression compression, int workers)
    {
        var blob = new MemoryStream();
        var result = LayerWriter.Write(entries, blob, new LayerWriterOptions { Compression = compression, Workers = workers });
        return (result, blob.ToArray());
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    public void Write_OneWorkerAndFourWorkers_SameBytes(LayerCompression compression)
    {
        var (one, oneBlob) = Write(MultiBlockTree(), compression, workers: 1);
        var (four, fourBlob) = Write(MultiBlockTree(), compression, workers: 4);
        Assert.True(one.UncompressedSize > 4L * LayerWriter.BlockSize, $"the tree must span several blocks ({one.UncompressedSize} bytes)");
        Assert.Equal(oneBlob, fourBlob);
        Assert.Equal(one.Digest, four.Digest);
        Assert.Equal(one.DiffId, four.DiffId);
        Assert.Equal(one.Files.AsEnumerable(), four.Files.AsEnumerable()); // ImmutableArray.Equals compares references
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    public void Write_MultiBlock_DigestsMatchIndependentCheck(LayerCompression compression)
    {
        var (result, blob) = Write(MultiBlockTree(), compression, workers: 3);
        var tar = Decompress(blob, compression);
        Assert.Equal(result.UncompressedSize, tar.Length);
        Assert.Equal(result.DiffId, Digest.FromSha256Hash(SHA256.HashData(tar)));
        Assert.Equal(result.Digest, Digest.FromSha256Hash(SHA256.HashData(blob)));
        Assert.Equal(blob.Length, result.Size);
        Assert.Equal(compression.MediaType(), result.ToDescriptor().MediaType);
    }

    [Fact]
    public void Write_GzipAndZstd_SameDiffIdAndInventory()
    {
        var (gzip, _) = Write(MultiBlockTree(), LayerCompression.Gzip, workers: 2);
        var (zstd, _) = Write(MultiBlockTree(), LayerCompression.Zstd, workers: 2);
        Assert.Equal(gzip.DiffId, zstd.DiffId);
        Assert.Equal(gzip.Files.AsEnumerable(), zstd.Files.AsEnumerable());
        Assert.NotEqual(gzip.Digest, zstd.Digest);
        Assert.Equal(MediaTypes.LayerTarGzip, gzip.ToDescriptor().MediaType);
        Assert.Equal(MediaTypes.LayerTarZstd, zstd.ToDescriptor().MediaType);
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    public void Write_TarExactlyTwoBlocks_RoundTripsAndSameForAnyWorkers(LayerCompression compression)
    {
        // header 512 + content + end-of-archive 1024 = exactly two blocks: the last block is full, never empty.
        byte[] content = new byte[(2 * LayerWriter.BlockSize) - 512 - 1024];
        new Random(7).NextBytes(content.AsSpan(0, content.Length / 2));
        LayerEntry[] entries = [LayerEntry.File("/data.bin", content)];
        var (one, oneBlob) = Write(entries, compression, workers: 1);
        var (two, twoBlob) = Write(entries, compression, workers: 2);
        Assert.Equal(2L * LayerWriter.BlockSize, one.UncompressedSize);
        Assert.Equal(oneBlob, twoBlob);
        Assert.Equal(one.DiffId, Digest.FromSha256Hash(SHA256.HashData(Decompress(twoBlob, compression))));
        Assert.Equal(one.Digest, two.Digest);
    }

    [Fact]
    public void Write_OneBlockGzip_IsOnePlainDeflateStream()
    {
        // A layer of at most one block is what a single deflate stream gives: small layers keep their digests and pay
        // nothing for the parallel path.
        var (result, blob) = Write(LayerWriterTests.FixedTree(), LayerCompression.Gzip, workers: 4);
        var tar = Decompress(blob, LayerCompression.Gzip);
        var deflated = new MemoryStream();
        using (var deflate = new DeflateStream(deflated, new ZLibCompressionOptions { CompressionLevel = 6 }, leaveOpen: true))
        {
            deflate.Write(tar);
        }

        Assert.True(result.UncompressedSize <= LayerWriter.BlockSize);
        Assert.Equal(deflated.ToArray(), blob[10..^8]);
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    public void Write_SourceVanishesAfterSeveralBlocks_ThrowsWithoutHanging(LayerCompression compression)
    {
        using var dir = new TempDir();
        string gone = dir.Combine("gone.bin");
        var entries = MultiBlockTree();
        entries.Add(LayerEntry.FileFrom("/zz/gone.bin", gone)); // sorted last: the workers hold blocks when it fails
        Assert.Throws<FileNotFoundException>(() => Write(entries, compression, workers: 4));
    }

    [Fact]
    public void Write_DestinationFailsMidLayer_ThrowsIOException()
    {
        var destination = new FailingStream(failAfter: 2 * LayerWriter.BlockSize / 3);
        var e = Assert.Throws<IOException>(() => LayerWriter.Write(MultiBlockTree(), destination, new LayerWriterOptions { Workers = 4 }));
        Assert.Equal("disk full", e.Message);
    }

    [Theory]
    [InlineData(LayerCompression.Gzip, 10)]
    [InlineData(LayerCompression.Gzip, -1)]
    [InlineData(LayerCompression.Zstd, 0)]
    [InlineData(LayerCompression.Zstd, 20)]
    public void Write_LevelOutOfRange_Throws(LayerCompression compression, int level) =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            LayerWriter.Write([], Stream.Null, new LayerWriterOptions { Compression = compression, CompressionLevel = level }));

    [Fact]
    public void Write_ZeroWorkers_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerWriter.Write([], Stream.Null, new LayerWriterOptions { Workers = 0 }));

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    public void Write_EmptyLayer_DecompressesToEndOfArchive(LayerCompression compression)
    {
        var (result, blob) = Write([], compression, workers: 4);
        Assert.Equal(new byte[1024], Decompress(blob, compression));
        Assert.Equal(1024, result.UncompressedSize);
    }

    [ToolFact("gzip", "sha256sum")]
    public void Write_MultiBlockGzip_GnuGzipRestoresExactTar()
    {
        using var dir = new TempDir();
        var (result, blob) = Write(MultiBlockTree(), LayerCompression.Gzip, workers: 4);
        File.WriteAllBytes(dir.Combine("layer.tar.gz"), blob);
        Tools.Sh("gzip -t layer.tar.gz", dir.Path);
        string sha = Tools.Sh("gunzip -c layer.tar.gz | sha256sum", dir.Path).Split(' ')[0];
        Assert.Equal(result.DiffId.Encoded, sha);
        Assert.Equal(result.UncompressedSize.ToString(System.Globalization.CultureInfo.InvariantCulture), Tools.Sh("gunzip -c layer.tar.gz | wc -c", dir.Path).Trim());
    }

    [ToolFact("tar")]
    public void Write_MultiBlockGzip_GnuTarListsEveryEntry()
    {
        using var dir = new TempDir();
        var (result, blob) = Write(MultiBlockTree(), LayerCompression.Gzip, workers: 4);
        File.WriteAllBytes(dir.Combine("layer.tar.gz"), blob);
        var listed = Tools.Sh("tar -tzf layer.tar.gz", dir.Path).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(result.Files.Select(f => f.Path[1..] + (f.Kind == EntryKind.Directory ? "/" : "")), listed);
    }

    [ToolFact("zstd", "sha256sum")]
    public void Write_MultiBlockZstd_ZstdToolRestoresExactTar()
    {
        using var dir = new TempDir();
        var (result, blob) = Write(MultiBlockTree(), LayerCompression.Zstd, workers: 4);
        File.WriteAllBytes(dir.Combine("layer.tar.zst"), blob);
        Tools.Sh("zstd -q -t layer.tar.zst", dir.Path);
        string sha = Tools.Sh("zstd -q -d -c layer.tar.zst | sha256sum", dir.Path).Split(' ')[0];
        Assert.Equal(result.DiffId.Encoded, sha);
    }

    internal static byte[] Decompress(byte[] blob, LayerCompression compression)
    {
        using Stream input = compression == LayerCompression.Gzip
            ? new GZipStream(new MemoryStream(blob), CompressionMode.Decompress)
            : new ZstdSharp.DecompressionStream(new MemoryStream(blob));
        var tar = new MemoryStream();
        input.CopyTo(tar);
        return tar.ToArray();
    }

    /// <summary>A destination that accepts some bytes, then fails like a full disk.</summary>
    private sealed class FailingStream(long failAfter) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > failAfter)
            {
                throw new IOException("disk full");
            }

            _written += buffer.Length;
        }

        public override void Flush() { }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
