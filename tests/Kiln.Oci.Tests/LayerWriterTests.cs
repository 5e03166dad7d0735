using System.Formats.Tar;
using System.Text;

namespace Kiln.Oci.Tests;

public class LayerWriterTests
{
    // Known answers for FixedTree() with default options. A change here means every Kiln image changes digest:
    // only update these on purpose, and say so in the commit.
    private const string FixedTreeDiffId = "sha256:5b45f813848ccec9348ed695d877b57e360fa8516c987a7c7121a41477020bae";
    private const string FixedTreeDigest = "sha256:f84cef9d9639ad8f39daa6156614c90df9cd8e905e5b5c52dc3efad9c002f5f3";

    internal static List<LayerEntry> FixedTree() =>
    [
        LayerEntry.File("/app/appsettings.json", "{\"Logging\":{\"LogLevel\":\"Warning\"}}\n"u8.ToArray()),
        LayerEntry.File("/app/Shop.Api", "\u007FELF fake binary"u8.ToArray()) with { Mode = 0x1ED },
        LayerEntry.File("/app/run.sh", "#!/bin/sh\nexec /app/Shop.Api \"$@\"\n"u8.ToArray()) with { Mode = 0x1ED, Uid = 10001, Gid = 10001 },
        LayerEntry.Directory("/var/lib/shop") with { Uid = 10001, Gid = 10001, Mode = 0x1C0 },
        LayerEntry.Symlink("/usr/bin/shop", "/app/Shop.Api"),
        LayerEntry.File("/etc/" + new string('n', 120) + "/deep.txt", "long path\n"u8.ToArray()),
        LayerEntry.File("/etc/empty", ReadOnlyMemory<byte>.Empty),
        LayerEntry.File("/etc/ünïcødé.txt", Encoding.UTF8.GetBytes("ü\n")),
    ];

    private static (LayerResult Result, byte[] Blob) WriteToMemory(IEnumerable<LayerEntry> entries, LayerWriterOptions? options = null)
    {
        var blob = new MemoryStream();
        var result = LayerWriter.Write(entries, blob, options ?? new LayerWriterOptions());
        return (result, blob.ToArray());
    }

    private static List<TarEntry> ReadTar(byte[] gzipBlob)
    {
        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(gzipBlob), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var list = new List<TarEntry>();
        while (reader.GetNextEntry(copyData: true) is { } e)
        {
            list.Add(e);
        }

        return list;
    }

    [Fact]
    public void Write_FixedTree_MatchesKnownAnswer()
    {
        var (result, blob) = WriteToMemory(FixedTree());
        Assert.Equal(FixedTreeDiffId, result.DiffId.ToString());
        Assert.Equal(FixedTreeDigest, result.Digest.ToString());
        Assert.Equal(blob.Length, result.Size);
        Assert.Equal(FixedTreeDigest, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(blob)));
    }

    [Fact]
    public void Write_FixedTree_DigestsMatchIndependentCheck()
    {
        var (result, blob) = WriteToMemory(FixedTree());
        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(blob), System.IO.Compression.CompressionMode.Decompress);
        var tar = new MemoryStream();
        gzip.CopyTo(tar);
        // The platform's gzip and SHA-256, not Kiln's digest code.
        Assert.Equal(result.DiffId.ToString(), "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(tar.ToArray())));
        Assert.Equal(tar.Length, result.UncompressedSize);
    }

    [ToolFact("gzip", "sha256sum", "tar")]
    public void Write_FixedTree_GnuToolsAgree()
    {
        using var dir = new TempDir();
        var (result, blob) = WriteToMemory(FixedTree());
        string path = dir.Combine("layer.tar.gz");
        File.WriteAllBytes(path, blob);
        string q = Tools.Quote(path);
        Tools.Sh($"gzip -t {q}");
        Assert.Equal(result.DiffId.Encoded, Tools.Sh($"gzip -dc {q} | sha256sum").Split(' ')[0]);
        Assert.Equal(result.Digest.Encoded, Tools.Sh($"sha256sum {q}").Split(' ')[0]);
        string listing = Tools.Sh($"tar --numeric-owner -tvzf {q}");
        Assert.Contains("drwx------ 10001/10001", listing);
        Assert.Contains("1970-01-01 00:00 var/lib/shop/", listing);
        Assert.Contains("lrwxrwxrwx 0/0", listing);
        Assert.Contains("usr/bin/shop -> /app/Shop.Api", listing);
        Assert.Contains("etc/" + new string('n', 120) + "/deep.txt", listing);
        Assert.Contains("etc/ünïcødé.txt", listing);
        Assert.DoesNotContain("PaxHeader", listing);
        Tools.Sh($"mkdir out && tar --numeric-owner -xzf {q} -C out", dir.Path);
        Assert.Equal("#!/bin/sh\nexec /app/Shop.Api \"$@\"\n", File.ReadAllText(dir.Combine("out", "app", "run.sh")));
        Assert.Equal("long path\n", File.ReadAllText(dir.Combine("out", "etc", new string('n', 120), "deep.txt")));
    }

    /// <summary>The same tree laid out on disk and archived by GNU tar with the options that make it deterministic
    /// gives exactly our tar: the diff_id is GNU tar's, byte for byte.</summary>
    [ToolFact("tar", "sha256sum")]
    public void Write_FixedTree_ByteIdenticalToGnuTar()
    {
        Assert.True(Tools.IsRoot, "needs root to chown the fixture tree to 10001");
        using var dir = new TempDir();
        string n = new('n', 120);
        Tools.Sh($$$"""
            mkdir -p t/app t/etc/{{{n}}} t/usr/bin t/var/lib/shop && cd t
            printf '{"Logging":{"LogLevel":"Warning"}}\n' > app/appsettings.json
            printf '\177ELF fake binary' > app/Shop.Api
            printf '#!/bin/sh\nexec /app/Shop.Api "$@"\n' > app/run.sh
            printf 'long path\n' > etc/{{{n}}}/deep.txt
            : > etc/empty
            printf '\303\274\n' > etc/ünïcødé.txt
            ln -s /app/Shop.Api usr/bin/shop
            chmod 755 app app/Shop.Api app/run.sh etc etc/{{{n}}} usr usr/bin var var/lib
            chmod 644 app/appsettings.json etc/empty etc/{{{n}}}/deep.txt etc/ünïcødé.txt
            chmod 700 var/lib/shop
            chown 10001:10001 var/lib/shop app/run.sh
            """, dir.Path);
        string gnu = Tools.Sh("tar -C t --format=gnu --sort=name --mtime=@0 --numeric-owner -b1 -cf - app etc usr var | sha256sum", dir.Path);
        Assert.Equal(FixedTreeDiffId, "sha256:" + gnu.Split(' ')[0]);
    }

    [Fact]
    public void Write_FixedTree_EntriesSortedWithParentsAndFixedMetadata()
    {
        var (result, blob) = WriteToMemory(FixedTree());
        var entries = ReadTar(blob);
        var names = entries.Select(e => e.Name).ToList();
        Assert.Equal(names.OrderBy(n => n.TrimEnd('/'), StringComparer.Ordinal), names);
        Assert.Equal("app/", names[0]);
        Assert.Contains("usr/", names);
        Assert.Contains("usr/bin/", names);
        Assert.Contains("var/", names);
        Assert.All(entries, e => Assert.Equal(DateTimeOffset.UnixEpoch, e.ModificationTime));
        Assert.All(entries, e => Assert.Equal(TarEntryFormat.Gnu, e.Format));
        Assert.All(entries, e => Assert.Equal("", ((PosixTarEntry)e).UserName));
        var usr = entries.Single(e => e.Name == "usr/");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, usr.Mode);
        var shopDir = entries.Single(e => e.Name == "var/lib/shop/");
        Assert.Equal(10001, shopDir.Uid);
        Assert.Equal(names.Count, result.Files.Length);
        Assert.Equal(result.Files.Select(f => f.Path[1..]), names.Select(n => n.TrimEnd('/')));
        var run = result.Files.Single(f => f.Path == "/app/run.sh");
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("#!/bin/sh\nexec /app/Shop.Api \"$@\"\n"u8)), run.Sha256Hex);
        Assert.Equal(0x1ED, run.Mode);
        Assert.Equal(10001, run.Uid);
        Assert.Equal("/app/Shop.Api", result.Files.Single(f => f.Kind == EntryKind.Symlink).LinkTarget);
    }

    [Fact]
    public void Write_SameInputTwice_SameBytes()
    {
        Assert.Equal(WriteToMemory(FixedTree()).Blob, WriteToMemory(FixedTree()).Blob);
    }

    [Fact]
    public void Write_InputOrderShuffled_SameDigest()
    {
        var tree = FixedTree();
        var shuffled = tree.AsEnumerable().Reverse().ToList();
        Assert.Equal(WriteToMemory(tree).Result.Digest, WriteToMemory(shuffled).Result.Digest);
    }

    [Fact]
    public void Write_DifferentTimestamp_DifferentDigest()
    {
        var a = WriteToMemory(FixedTree()).Result;
        var b = WriteToMemory(FixedTree(), new LayerWriterOptions { Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000) }).Result;
        Assert.NotEqual(a.DiffId, b.DiffId);
        Assert.NotEqual(a.Digest, b.Digest);
    }

    [Fact]
    public void Write_DifferentCompressionLevel_SameDiffIdDifferentDigest()
    {
        var a = WriteToMemory(FixedTree()).Result;
        var b = WriteToMemory(FixedTree(), new LayerWriterOptions { CompressionLevel = 1 }).Result;
        Assert.Equal(a.DiffId, b.DiffId);
        Assert.NotEqual(a.Digest, b.Digest);
    }

    [Fact]
    public void Write_SourceFileAndSameContentInMemory_SameDigest()
    {
        using var dir = new TempDir();
        byte[] big = new byte[700_000];
        new Random(42).NextBytes(big);
        File.WriteAllBytes(dir.Combine("big.bin"), big);
        var fromFile = WriteToMemory([LayerEntry.FileFrom("/big.bin", dir.Combine("big.bin"))]).Result;
        var fromMemory = WriteToMemory([LayerEntry.File("/big.bin", big)]).Result;
        Assert.Equal(fromMemory.Digest, fromFile.Digest);
        Assert.Equal(700_000, fromFile.Files.Single().Size);
    }

    [Fact]
    public void Write_GzipHeader_FixedMtimeAndOs()
    {
        var (_, blob) = WriteToMemory(FixedTree());
        Assert.Equal(new byte[] { 0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF }, blob[..10]);
    }

    [Fact]
    public void Write_IdenticalDuplicates_Collapse()
    {
        var tree = FixedTree();
        var doubled = tree.Concat(FixedTree()).Append(LayerEntry.Directory("/app")).ToList();
        Assert.Equal(WriteToMemory(tree).Result.Digest, WriteToMemory(doubled).Result.Digest);
    }

    [Fact]
    public void Write_DuplicateWithDifferentContent_ThrowsLayerConflict()
    {
        var e = Assert.Throws<LayerConflictException>(() => WriteToMemory(
            [LayerEntry.File("/a/x", "1"u8.ToArray()), LayerEntry.File("/a/./x", "2"u8.ToArray())]));
        Assert.Equal("/a/x", e.ConflictPath);
    }

    [Fact]
    public void Write_DuplicateWithDifferentMode_ThrowsLayerConflict() =>
        Assert.Throws<LayerConflictException>(() => WriteToMemory(
            [LayerEntry.File("/x", "1"u8.ToArray()), LayerEntry.File("/x", "1"u8.ToArray()) with { Mode = 0x1ED }]));

    [Fact]
    public void Write_FileUsedAsParent_ThrowsLayerConflict()
    {
        var e = Assert.Throws<LayerConflictException>(() => WriteToMemory(
            [LayerEntry.File("/a", "1"u8.ToArray()), LayerEntry.File("/a/b/c", "2"u8.ToArray())]));
        Assert.Equal("/a", e.ConflictPath);
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("/a/../b")]
    [InlineData("/a\\b")]
    public void Write_BadPath_ThrowsArgumentException(string path) =>
        Assert.ThrowsAny<ArgumentException>(() => WriteToMemory([LayerEntry.File(path, "x"u8.ToArray())]));

    [Fact]
    public void NormalizePath_DotsAndSlashes_Normalised()
    {
        Assert.Equal("/a/b/c", LayerEntry.NormalizePath("/a/./b//c/"));
        Assert.Equal("/", LayerEntry.NormalizePath("/"));
    }

    [Fact]
    public void Write_InvalidEntries_ThrowArgumentException()
    {
        Assert.ThrowsAny<ArgumentException>(() => WriteToMemory([new LayerEntry("/l", EntryKind.Symlink)]));
        Assert.ThrowsAny<ArgumentException>(() => WriteToMemory([LayerEntry.File("/f", "x"u8.ToArray()) with { Mode = 0x10000 }]));
        Assert.ThrowsAny<ArgumentException>(() => WriteToMemory([LayerEntry.File("/f", "x"u8.ToArray()) with { SourcePath = "/etc/hostname" }]));
        Assert.ThrowsAny<ArgumentException>(() => WriteToMemory([new LayerEntry("/w", EntryKind.Whiteout)]));
        Assert.ThrowsAny<ArgumentException>(() => WriteToMemory([LayerEntry.File("/f", "x"u8.ToArray()) with { Uid = -1 }]));
    }

    [Fact]
    public void Write_TimestampBeforeEpoch_Throws() =>
        Assert.ThrowsAny<ArgumentException>(() => WriteToMemory(FixedTree(), new LayerWriterOptions { Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(-1) }));

    [Fact]
    public void Write_Empty_IsValidEmptyTar()
    {
        var (result, blob) = WriteToMemory([]);
        Assert.Empty(result.Files);
        Assert.Equal(1024, result.UncompressedSize);
        Assert.Empty(ReadTar(blob));
    }

    [Fact]
    public void Write_LongSymlinkTargetAndLongNames_ReadBack()
    {
        string longTarget = "/" + string.Join('/', Enumerable.Repeat("target-segment", 12));
        string longName = "/" + string.Join('/', Enumerable.Repeat("a-rather-long-directory-name", 10)) + "/file";
        var (_, blob) = WriteToMemory([LayerEntry.Symlink("/link", longTarget), LayerEntry.File(longName, "x"u8.ToArray())]);
        var entries = ReadTar(blob);
        Assert.Equal(longTarget, entries.Single(e => e.EntryType == TarEntryType.SymbolicLink).LinkName);
        Assert.Contains(entries, e => e.Name == longName[1..]);
        Assert.Contains(entries, e => e.Name == longName[1..longName.LastIndexOf('/')] + "/");
    }

    [Fact]
    public void Write_RootDirectory_Skipped()
    {
        var (result, _) = WriteToMemory([LayerEntry.Directory("/"), LayerEntry.File("/x", "x"u8.ToArray())]);
        Assert.Equal(["/x"], result.Files.Select(f => f.Path));
    }

    [Fact]
    public void Write_ToDescriptor_IsGzipLayer()
    {
        var (result, _) = WriteToMemory(FixedTree());
        var d = result.ToDescriptor();
        Assert.Equal(MediaTypes.LayerTarGzip, d.MediaType);
        Assert.Equal(result.Digest, d.Digest);
        Assert.Equal(result.Size, d.Size);
    }

    [Theory]
    [InlineData(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F', 2 }, true)]
    [InlineData(new byte[] { (byte)'#', (byte)'!', (byte)'/' }, true)]
    [InlineData(new byte[] { (byte)'M', (byte)'Z' }, false)]
    [InlineData(new byte[] { (byte)'#' }, false)]
    [InlineData(new byte[0], false)]
    public void LooksExecutable_Magic_Detected(byte[] firstBytes, bool expected) =>
        Assert.Equal(expected, LayerWriter.LooksExecutable(firstBytes));
}
