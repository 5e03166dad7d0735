using Kiln.Engine.Manifests;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Manifests;

/// <summary>Layer entries an unpacker would refuse, or would apply elsewhere than their path says, are refused.</summary>
public sealed class InventoryValidationTests
{
    private const string Hash = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/app/../../escape.txt")]
    [InlineData("./etc/../..")]
    public void Apply_PathWithDotDot_IsRefusedAsEscape(string path)
    {
        var inventory = new Inventory();

        var e = Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([File(path)]));

        Assert.Equal(UnsafeEntryKind.EscapesRoot, e.Kind);
    }

    [Fact]
    public void Apply_HardLinkOutsideTheRoot_IsRefused()
    {
        var inventory = new Inventory();

        var e = Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([Dir("/app"), HardLink("/app/passwd", "../../etc/passwd")]));

        Assert.Equal(UnsafeEntryKind.HardLink, e.Kind);
        Assert.Contains("../../etc/passwd", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_HardLinkToAMissingOrLaterFile_IsRefused()
    {
        var inventory = new Inventory();

        var e = Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([HardLink("/b", "/a"), File("/a")]));

        Assert.Equal(UnsafeEntryKind.HardLink, e.Kind);
    }

    [Fact]
    public void Apply_HardLinkToADirectory_IsRefused()
    {
        var inventory = new Inventory();

        var e = Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([Dir("/etc"), HardLink("/link", "/etc")]));

        Assert.Equal(UnsafeEntryKind.HardLink, e.Kind);
    }

    [Fact]
    public void Apply_HardLinkToAFileOfALowerLayer_TakesThatFilesContent()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/bin"), File("/bin/busybox", size: 42)]);

        inventory.Apply([HardLink("/bin/sh", "/bin/busybox")]);

        var sh = inventory.Files.Single(f => f.Path == "/bin/sh");
        Assert.Equal((EntryKind.File, 42L, Hash), (sh.Kind, sh.Size, sh.Sha256Hex));
    }

    [Fact]
    public void Apply_EntryUnderASymlinkOfTheSameLayer_IsRefusedAsWriteThrough()
    {
        var inventory = new Inventory();

        var e = Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([Symlink("/app", "/"), File("/app/etc/x")]));

        Assert.Equal(UnsafeEntryKind.ThroughSymlink, e.Kind);
        Assert.Equal("/app/etc/x", e.EntryPath);
    }

    [Fact]
    public void Apply_EntryUnderASymlinkOfALowerLayer_IsRefusedAsWriteThrough()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/usr"), Dir("/usr/lib"), Symlink("/lib", "usr/lib")]);

        var e = Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([File("/lib/libc.so.6")]));

        Assert.Equal(UnsafeEntryKind.ThroughSymlink, e.Kind);
    }

    [Fact]
    public void Apply_WhiteoutUnderASymlink_IsRefused()
    {
        var inventory = new Inventory();
        inventory.Apply([Symlink("/app", "/etc"), Dir("/etc"), File("/etc/passwd")]);

        var e = Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([Whiteout("/app/.wh.passwd")]));

        Assert.Equal(UnsafeEntryKind.ThroughSymlink, e.Kind);
    }

    [Fact]
    public void Apply_EntryUnderARegularFile_IsRefused()
    {
        var inventory = new Inventory();

        var e = Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([File("/etc"), File("/etc/passwd")]));

        Assert.Equal(UnsafeEntryKind.ThroughSymlink, e.Kind);
    }

    [Fact]
    public void Apply_DirectoryReplacingASymlinkThenEntriesBelow_IsAccepted()
    {
        // What an unpacker does with a directory entry over a symlink: removes the link, makes the directory.
        var inventory = new Inventory();
        inventory.Apply([Symlink("/app", "/")]);

        inventory.Apply([Dir("/app"), File("/app/x")]);

        Assert.Equal(["/app", "/app/x"], inventory.Files.Select(f => f.Path));
    }

    [Fact]
    public void Apply_DeviceNode_IsRefusedUnlessAllowed()
    {
        var strict = new Inventory();
        var e = Assert.Throws<UnsafeLayerEntryException>(() => strict.Apply([Dir("/dev"), Special("/dev/sda")]));
        Assert.Equal(UnsafeEntryKind.SpecialFile, e.Kind);

        var allowing = new Inventory();
        allowing.Apply([Dir("/dev"), Special("/dev/sda")], allowSpecialFiles: true);
        Assert.Equal(EntryKind.Special, allowing.Files.Single(f => f.Path == "/dev/sda").Kind);
    }

    [Fact]
    public void Apply_RefusedLayer_LeavesTheInventoryAsItWas()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/etc"), File("/etc/motd")]);
        var before = inventory.ToBytes();

        Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([Whiteout("/etc/.wh.motd"), File("/etc/issue"), Symlink("/x", "/"), File("/x/y")]));

        Assert.Equal(before, inventory.ToBytes());
    }

    [Fact]
    public void Apply_RefusedLayerAfterReplacingAndHidingEntries_IsUndoneInFull()
    {
        var inventory = new Inventory();
        inventory.Apply([Dir("/etc"), File("/etc/motd", size: 1), Dir("/opt"), Dir("/opt/app"), File("/opt/app/a")]);
        var before = inventory.ToBytes();

        // Replaces /etc/motd and turns /opt (hiding everything below it) into a file before the bad hard link.
        Assert.Throws<UnsafeLayerEntryException>(() => inventory.Apply([File("/etc/motd", size: 9), File("/opt"), HardLink("/etc/link", "/nowhere")]));

        Assert.Equal(before, inventory.ToBytes());
        inventory.Apply([File("/opt/app/b")]); // /opt is a directory again
        Assert.Contains(inventory.Files, f => f.Path == "/opt/app/a");
    }

    [Fact]
    public void Clone_LayersAppliedToTheCopy_LeaveTheOriginalAlone()
    {
        var original = new Inventory();
        original.Apply([Dir("/etc"), File("/etc/motd")]);
        var before = original.ToBytes();

        var copy = original.Clone();
        copy.Apply([Whiteout("/etc/.wh.motd"), File("/etc/issue")]);

        Assert.Equal(before, original.ToBytes());
        Assert.Equal(["/etc", "/etc/issue"], copy.Files.Select(f => f.Path));
    }

    [Fact]
    public void Apply_DuplicateEntries_LaterWins()
    {
        var inventory = new Inventory();

        inventory.Apply([Dir("/etc"), File("/etc/motd", size: 1), File("/etc/motd", size: 9)]);

        Assert.Equal(9, inventory.Files.Single(f => f.Path == "/etc/motd").Size);
    }

    private static LayerFileRecord Dir(string path) => new(path, EntryKind.Directory, 0x1ED, 0, 0, 0, null, null);

    private static LayerFileRecord File(string path, long size = 3) => new(path, EntryKind.File, 0x1A4, 0, 0, size, Hash, null);

    private static LayerFileRecord HardLink(string path, string target) => new(path, EntryKind.File, 0x1A4, 0, 0, 0, null, target);

    private static LayerFileRecord Symlink(string path, string target) => new(path, EntryKind.Symlink, 0x1FF, 0, 0, 0, null, target);

    private static LayerFileRecord Whiteout(string path) => new(path, EntryKind.Whiteout, 0, 0, 0, 0, null, null);

    private static LayerFileRecord Special(string path) => new(path, EntryKind.Special, 0x1B6, 0, 0, 0, null, null);
}
