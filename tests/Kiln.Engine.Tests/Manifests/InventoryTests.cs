using System.Text;
using Kiln.Engine.Manifests;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Manifests;

/// <summary>
/// The file inventory: layers applied in order with OCI whiteout semantics
/// (https://github.com/opencontainers/image-spec/blob/v1.1.1/layer.md#whiteouts), written as sorted, escaped,
/// tab-separated text.
/// </summary>
public sealed class InventoryTests
{
    private const string Hash = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    [Fact]
    public void Apply_LaterLayerWritesSamePath_ReplacesTheEntry()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/app"), File("/app/config.json", size: 10)]);
        inventory.Apply([File("/app/config.json", size: 20, mode: 0x1ED)]);

        var file = Assert.Single(inventory.Files, f => f.Path == "/app/config.json");
        Assert.Equal(20, file.Size);
        Assert.Equal(0x1ED, file.Mode);
    }

    [Fact]
    public void Apply_Whiteout_RemovesTheFile()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/etc"), File("/etc/motd"), File("/etc/hosts")]);
        inventory.Apply([Whiteout("/etc/.wh.motd")]);

        Assert.Equal(["/etc", "/etc/hosts"], Paths(inventory));
    }

    [Fact]
    public void Apply_WhiteoutOfDirectory_RemovesItAndEverythingBelowButNotItsNamesakes()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/var"), Dir("/var/cache"), Dir("/var/cache/apt"), File("/var/cache/apt/pkgcache.bin"), File("/var/cache.d"), Dir("/var/cachefiles")]);
        inventory.Apply([Whiteout("/var/.wh.cache")]);

        Assert.Equal(["/var", "/var/cache.d", "/var/cachefiles"], Paths(inventory));
    }

    [Fact]
    public void Apply_Whiteout_IsNotItselfListed()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/etc"), Whiteout("/etc/.wh.absent")]);

        Assert.Equal(["/etc"], Paths(inventory));
    }

    [Fact]
    public void Apply_WhiteoutAtRoot_RemovesTopLevelEntry()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/opt"), File("/opt/tool"), Dir("/srv")]);
        inventory.Apply([Whiteout("/.wh.opt")]);

        Assert.Equal(["/srv"], Paths(inventory));
    }

    [Fact]
    public void Apply_OpaqueWhiteout_ClearsTheDirectoryButKeepsIt()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/app"), File("/app/old.dll"), Dir("/app/runtimes"), File("/app/runtimes/x.so"), File("/apple")]);
        inventory.Apply([Dir("/app"), Whiteout("/app/.wh..wh..opq"), File("/app/new.dll")]);

        Assert.Equal(["/app", "/app/new.dll", "/apple"], Paths(inventory));
    }

    [Fact]
    public void Apply_OpaqueWhiteoutAfterSiblingsOfItsOwnLayer_KeepsThoseSiblings()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/app"), File("/app/old.dll")]);
        inventory.Apply([Dir("/app"), File("/app/-new.dll"), Whiteout("/app/.wh..wh..opq")]);

        Assert.Equal(["/app", "/app/-new.dll"], Paths(inventory));
    }

    [Fact]
    public void Apply_FileReplacingDirectory_HidesWhatWasBelow()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/app"), Dir("/app/data"), File("/app/data/a"), Dir("/app/data/sub"), File("/app/data/sub/b"), File("/app/database")]);
        inventory.Apply([File("/app/data")]);

        Assert.Equal(["/app", "/app/data", "/app/database"], Paths(inventory));
        Assert.Equal(EntryKind.File, inventory.Files.Single(f => f.Path == "/app/data").Kind);
    }

    [Fact]
    public void Apply_SymlinkReplacingDirectory_HidesWhatWasBelow()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/lib"), File("/lib/libc.so.6")]);
        inventory.Apply([Symlink("/lib", "usr/lib")]);

        var link = Assert.Single(inventory.Files);
        Assert.Equal(("/lib", EntryKind.Symlink), (link.Path, link.Kind));
    }

    [Fact]
    public void Apply_DirectoryOverDirectory_KeepsItsContent()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/app"), File("/app/a")]);
        inventory.Apply([Dir("/app", mode: 0x1E8), File("/app/b")]);

        Assert.Equal(["/app", "/app/a", "/app/b"], Paths(inventory));
        Assert.Equal(0x1E8, inventory.Files.First().Mode);
    }

    [Theory]
    [InlineData("./app/x")]
    [InlineData("app/x")]
    [InlineData("/app/x/")]
    public void Apply_TarStylePaths_AreNormalisedToAbsolute(string path)
    {
        var inventory = new Inventory();
        inventory.Apply([File(path)]);

        Assert.Equal(["/app/x"], Paths(inventory));
    }

    [Fact]
    public void Apply_RelativeTopLevelDotFile_KeepsItsName()
    {
        var inventory = new Inventory();
        inventory.Apply([File(".profile")]);

        Assert.Equal(["/.profile"], Paths(inventory));
    }

    [Fact]
    public void ToBytes_EmptyInventory_IsTheHeaderLine()
    {
        Assert.Equal(Inventory.Header + "\n", Text(new Inventory()));
    }

    [Fact]
    public void ToBytes_OneOfEachKind_WritesTheDocumentedColumns()
    {
        var inventory = new Inventory();
        inventory.Apply([
            Dir("/app", uid: 10001, gid: 10002),
            File("/app/Orders.Api", size: 4, mode: 0x1ED),
            Symlink("/app/current", "/app/Orders.Api"),
            File("/app/bin/setuid", mode: 0x9ED),
        ]);

        Assert.Equal(
            Inventory.Header + "\n" +
            "/app\td\t0755\t10001\t10002\t0\t-\t-\n" +
            $"/app/Orders.Api\tf\t0755\t0\t0\t4\t{Hash}\t-\n" +
            $"/app/bin/setuid\tf\t4755\t0\t0\t3\t{Hash}\t-\n" +
            "/app/current\tl\t0777\t0\t0\t0\t-\t/app/Orders.Api\n",
            Text(inventory));
    }

    [Fact]
    public void ToBytes_Header_NamesEveryColumnTabSeparated()
    {
        Assert.Equal(["# kiln inventory v1", "path", "type", "mode", "uid", "gid", "size", "sha256", "link"], Inventory.Header.Split('\t'));
    }

    [Fact]
    public void ToBytes_PathsWithTabNewlineAndBackslash_AreEscaped()
    {
        var inventory = new Inventory();
        inventory.Apply([File("/data/a\tb"), File("/data/c\nd"), File("/data/e\\f"), Symlink("/data/l", "x\ty")]);

        var lines = Text(inventory).Split('\n');

        Assert.Equal(6, lines.Length); // header, four entries, and the empty string after the final '\n'
        Assert.StartsWith("/data/a\\tb\tf\t", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("/data/c\\nd\tf\t", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("/data/e\\\\f\tf\t", lines[3], StringComparison.Ordinal);
        Assert.EndsWith("\tx\\ty", lines[4], StringComparison.Ordinal);
        Assert.All(lines[1..5], line => Assert.Equal(8, line.Split('\t').Length));
    }

    [Fact]
    public void ToBytes_Entries_AreSortedByOrdinalPathWhateverTheLayerOrder()
    {
        var inventory = new Inventory();
        inventory.Apply([File("/b"), File("/app/x"), File("/B"), File("/app-x"), File("/a")]);
        inventory.Apply([File("/Z"), File("/é")]);

        Assert.Equal(["/B", "/Z", "/a", "/app-x", "/app/x", "/b", "/é"], Paths(inventory));
        var lines = Text(inventory).Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..];
        Assert.Equal(Paths(inventory), lines.Select(l => l.Split('\t')[0]));
    }

    [Fact]
    public void ToBytes_SameEntriesInAnotherOrder_GiveIdenticalBytes()
    {
        LayerFileRecord[] entries = [Dir("/app"), File("/app/a"), File("/app/b"), Symlink("/app/c", "a")];
        var forward = new Inventory();
        forward.Apply(entries);
        var backward = new Inventory();
        backward.Apply(Enumerable.Reverse(entries));

        Assert.Equal(forward.ToBytes(), backward.ToBytes());
    }

    [Fact]
    public void ToBytes_Output_IsUtf8WithLineFeedsOnly()
    {
        var inventory = new Inventory();
        inventory.Apply([File("/srv/café.txt")]);

        var bytes = inventory.ToBytes();

        Assert.DoesNotContain((byte)'\r', bytes);
        Assert.Equal((byte)'\n', bytes[^1]);
        Assert.Contains("/srv/caf\u00e9.txt", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.False(bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble));
    }

    private static LayerFileRecord Dir(string path, int mode = 0x1ED, int uid = 0, int gid = 0) =>
        new(path, EntryKind.Directory, mode, uid, gid, 0, null, null);

    private static LayerFileRecord File(string path, long size = 3, int mode = 0x1A4) =>
        new(path, EntryKind.File, mode, 0, 0, size, Hash, null);

    private static LayerFileRecord Symlink(string path, string target) =>
        new(path, EntryKind.Symlink, 0x1FF, 0, 0, 0, null, target);

    private static LayerFileRecord Whiteout(string path) =>
        new(path, EntryKind.Whiteout, 0, 0, 0, 0, null, null);

    private static string[] Paths(Inventory inventory) => [.. inventory.Files.Select(f => f.Path)];

    private static string Text(Inventory inventory) => Encoding.UTF8.GetString(inventory.ToBytes());
}
