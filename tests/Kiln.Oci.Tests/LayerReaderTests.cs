using System.Security.Cryptography;
using System.Text;

namespace Kiln.Oci.Tests;

public class LayerReaderTests
{
    private static string Sha(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    [Fact]
    public void ReadFiles_KilnLayer_MatchesWriterInventory()
    {
        var blob = new MemoryStream();
        var result = LayerWriter.Write(LayerWriterTests.FixedTree(), blob, new LayerWriterOptions());
        blob.Position = 0;
        var read = LayerReader.ReadFiles(blob, MediaTypes.LayerTarGzip).ToList();
        Assert.Equal(result.Files, read);
    }

    [ToolFact("tar")]
    public void ReadFiles_GnuTarPaxWithHardlinkAndWhiteout_ReadsAll()
    {
        using var dir = new TempDir();
        string longName = new('p', 150);
        Tools.Sh($"""
            mkdir -p t/etc t/usr/lib && cd t
            printf 'hello\n' > etc/hello.txt
            printf 'x' > usr/lib/{longName}
            ln etc/hello.txt usr/lib/hardlink
            ln -s ../etc/hello.txt usr/lib/sym
            : > etc/.wh.removed
            mkfifo usr/lib/fifo
            chown 123:456 etc/hello.txt
            chmod 4755 usr/lib/{longName}
            """, dir.Path);
        Tools.Sh("tar -C t --format=pax --sort=name -czf layer.tgz ./etc ./usr && tar -C t --format=pax --sort=name -cf layer.tar etc usr", dir.Path);
        foreach (string file in new[] { "layer.tgz", "layer.tar" })
        {
            using var stream = File.OpenRead(dir.Combine(file));
            var records = LayerReader.ReadFiles(stream, MediaTypes.LayerTarGzip).ToDictionary(r => r.Path);
            var hello = records["/etc/hello.txt"];
            Assert.Equal(EntryKind.File, hello.Kind);
            Assert.Equal(6, hello.Size);
            Assert.Equal(Sha("hello\n"), hello.Sha256Hex);
            Assert.Equal((123, 456), (hello.Uid, hello.Gid));
            var hard = records["/usr/lib/hardlink"];
            Assert.Equal(EntryKind.File, hard.Kind);
            Assert.Equal(Sha("hello\n"), hard.Sha256Hex);
            Assert.Equal("/etc/hello.txt", hard.LinkTarget);
            Assert.Equal(EntryKind.Symlink, records["/usr/lib/sym"].Kind);
            Assert.Equal("../etc/hello.txt", records["/usr/lib/sym"].LinkTarget);
            Assert.Equal(EntryKind.Whiteout, records["/etc/.wh.removed"].Kind);
            Assert.Equal(EntryKind.Special, records["/usr/lib/fifo"].Kind);
            Assert.Equal(EntryKind.Directory, records["/usr/lib"].Kind);
            var longFile = records["/usr/lib/" + longName];
            Assert.Equal(0x9ED, longFile.Mode);
            Assert.Equal(Sha("x"), longFile.Sha256Hex);
        }
    }

    [Fact]
    public void ReadFiles_NotATar_ThrowsOciFormatException()
    {
        var garbage = new MemoryStream(Enumerable.Repeat((byte)'z', 2048).ToArray());
        Assert.Throws<OciFormatException>(() => LayerReader.ReadFiles(garbage, MediaTypes.LayerTar).ToList());
    }

    [Fact]
    public void ReadFiles_CorruptZstd_ThrowsOciFormatException()
    {
        var zstd = new MemoryStream([0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0, 0]);
        var e = Assert.Throws<OciFormatException>(() => LayerReader.ReadFiles(zstd, MediaTypes.LayerTarZstd).ToList());
        Assert.Contains("not a valid tar", e.Message);
    }

    [Fact]
    public void ReadFiles_TruncatedZstd_ThrowsOciFormatException()
    {
        var blob = new MemoryStream();
        LayerWriter.Write(LayerWriterTests.FixedTree(), blob, new LayerWriterOptions { Compression = LayerCompression.Zstd });
        var truncated = new MemoryStream(blob.ToArray()[..(int)(blob.Length / 2)]);
        Assert.Throws<OciFormatException>(() => LayerReader.ReadFiles(truncated, MediaTypes.LayerTarZstd).ToList());
    }

    [Fact]
    public void ReadFiles_KilnZstdLayer_MatchesWriterInventory()
    {
        var blob = new MemoryStream();
        var result = LayerWriter.Write(LayerWriterTests.FixedTree(), blob, new LayerWriterOptions { Compression = LayerCompression.Zstd });
        blob.Position = 0;
        Assert.Equal(result.Files, LayerReader.ReadFiles(blob, MediaTypes.LayerTarZstd).ToList());
    }

    [ToolFact("tar", "zstd")]
    public void ReadFiles_ZstdToolMultiFrameLayer_ReadsAll()
    {
        // zstd's own output, as two concatenated frames (the shape of a multi-block Kiln layer, written by another tool).
        using var dir = new TempDir();
        Tools.Sh("""
            mkdir -p t/etc t/usr && printf 'hello\n' > t/etc/hello.txt && head -c 3000000 /dev/zero > t/usr/zeros
            tar -C t --sort=name -cf layer.tar etc usr
            head -c 1048576 layer.tar | zstd -q -3 -c > layer.tar.zst
            tail -c +1048577 layer.tar | zstd -q -3 -c >> layer.tar.zst
            """, dir.Path);
        using var stream = File.OpenRead(dir.Combine("layer.tar.zst"));
        var records = LayerReader.ReadFiles(stream, MediaTypes.LayerTarZstd).ToDictionary(r => r.Path);
        Assert.Equal(Sha("hello\n"), records["/etc/hello.txt"].Sha256Hex);
        Assert.Equal(3_000_000, records["/usr/zeros"].Size);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(new byte[3_000_000])), records["/usr/zeros"].Sha256Hex);
    }

    [Fact]
    public void ReadFiles_TruncatedGzip_ThrowsOciFormatException()
    {
        var blob = new MemoryStream();
        LayerWriter.Write(LayerWriterTests.FixedTree(), blob, new LayerWriterOptions());
        var truncated = new MemoryStream(blob.ToArray()[..200]);
        Assert.Throws<OciFormatException>(() => LayerReader.ReadFiles(truncated, MediaTypes.LayerTarGzip).ToList());
    }
}
