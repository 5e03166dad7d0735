using System.Formats.Tar;
using System.Text;

namespace Kiln.Oci.Tests.Issues;

/// <summary>
/// Inputs the reader fuzzer (tests/Kiln.Fuzz, build/fuzz.sh) found escaping Kiln.Oci's readers as raw .NET
/// exceptions or making them allocate what a header claimed; each now ends in an <see cref="OciFormatException"/>.
/// </summary>
public sealed class ReaderFuzzFindingsTests
{
    [Fact]
    public void ReadFiles_PaxGlobalHeaderDeclaring128MiB_ThrowsWithoutAllocatingIt()
    {
        var tar = Tar(new PaxGlobalExtendedAttributesTarEntry(new Dictionary<string, string> { ["comment"] = "x" }));
        Patch(tar, 124, "01000000020\0"u8); // 134,217,744 bytes, in a 2 KB archive

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<OciFormatException>(() => LayerReader.ReadFiles(new MemoryStream(tar), MediaTypes.LayerTar).ToList());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("metadata entry", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public void ReadFiles_UidInBase256TooLargeForAnInt_ThrowsOciFormatException()
    {
        var tar = Tar(new GnuTarEntry(TarEntryType.Directory, "etc/"));
        Patch(tar, 108, [0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);

        Assert.Throws<OciFormatException>(() => LayerReader.ReadFiles(new MemoryStream(tar), MediaTypes.LayerTar).ToList());
    }

    [Fact]
    public void ReadFiles_GnuSparseEntry_ThrowsOciFormatException()
    {
        var tar = Tar(new GnuTarEntry(TarEntryType.RegularFile, "data.bin") { DataStream = new MemoryStream(new byte[10]) });
        Patch(tar, 156, "S"u8);

        Assert.Throws<OciFormatException>(() => LayerReader.ReadFiles(new MemoryStream(tar), MediaTypes.LayerTar).ToList());
    }

    [Theory]
    [InlineData("\"application/vnd.oci.image.manifest.v1+json\\ud800\"")]
    [InlineData("\"\\udc00\"")]
    public void Parse_LoneSurrogateEscapeInAString_ThrowsOciFormatException(string mediaType)
    {
        var json = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":{{mediaType}},"config":{"mediaType":"a","digest":"{{Digest.Sha256("c"u8)}}","size":1} }""");

        Assert.Throws<OciFormatException>(() => ImageManifest.Parse(json));
    }

    [Fact]
    public void Parse_InvalidUtf8InAnAnnotation_ThrowsOciFormatException()
    {
        var json = Encoding.UTF8.GetBytes("""{"schemaVersion":2,"manifests":[],"annotations":{"a":"bXd"} }""");
        json[Array.IndexOf(json, (byte)'X')] = 0xFF;

        Assert.Throws<OciFormatException>(() => ImageIndex.Parse(json));
    }

    private static byte[] Tar(TarEntry entry)
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, leaveOpen: true))
        {
            writer.WriteEntry(entry);
        }

        return output.ToArray();
    }

    /// <summary>Overwrites a field of the first header and writes its checksum again, so only the field is wrong.</summary>
    private static void Patch(byte[] tar, int offset, ReadOnlySpan<byte> value)
    {
        value.CopyTo(tar.AsSpan(offset));
        long sum = 0;
        for (int i = 0; i < 512; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : tar[i];
        }

        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(tar.AsSpan(148));
    }
}
