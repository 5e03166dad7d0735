using Kiln.Engine.Diff;
using Kiln.Engine.Manifests;

namespace Kiln.Engine.Tests.Diff;

public sealed class ManifestDiffTests
{
    private static InventoryEntry F(string path, int mode = 0x1A4, long uid = 0, string sha = "aa", long size = 1) => new(path, 'f', mode, uid, uid, size, sha, null);

    [Fact]
    public void Files_AddedRemovedAndModified_ReportsEachWithWhatChanged()
    {
        var before = new[] { F("/a"), F("/b"), F("/c"), F("/d"), F("/same") }.ToDictionary(e => e.Path);
        var after = new[] { F("/a", sha: "bb"), F("/b", mode: 0x1ED), F("/c", uid: 1000), F("/e"), F("/same") }.ToDictionary(e => e.Path);

        var changes = ManifestDiff.Files("api", before, after).Select(c => $"{c.Path} {c.Change} {string.Join(',', c.What)}").ToList();

        Assert.Equal(["/a modified content", "/b modified mode", "/c modified owner", "/d removed ", "/e added "], changes);
    }

    [Fact]
    public void Files_FileBecameDirectory_ReportsTypeOnly()
    {
        var before = new[] { F("/x") }.ToDictionary(e => e.Path);
        var after = new[] { new InventoryEntry("/x", 'd', 0x1ED, 0, 0, 0, null, null) }.ToDictionary(e => e.Path);

        Assert.Equal<string>(["type"], Assert.Single(ManifestDiff.Files("api", before, after)).What);
    }
}
