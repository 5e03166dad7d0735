using System.Text;

namespace Kiln.Oci.Tests;

/// <summary>The layout checker behind <c>kiln fsck</c>, and the layout's refusal to keep a corrupt blob.</summary>
public sealed class LayoutCheckerTests
{
    [Fact]
    public void Check_SoundLayout_HasNoFindings()
    {
        using var dir = new TempDir();
        var (layout, _, _) = OneImage(dir);

        var result = LayoutChecker.Check(layout.Root);

        Assert.True(result.IsValid);
        Assert.Empty(result.Findings);
        Assert.Equal(3, result.Checked); // manifest, config, layer
    }

    [Fact]
    public void Check_FlippedBytesInALayer_ReportsWrongDigestAndItsManifest()
    {
        using var dir = new TempDir();
        var (layout, manifest, layer) = OneImage(dir);
        Flip(layout.GetBlobPath(layer.Digest));

        var result = LayoutChecker.Check(layout.Root);

        var finding = Assert.Single(result.Findings);
        Assert.Equal((layer.Digest, BlobProblem.WrongDigest, manifest.Digest.ToString()), (finding.Digest, finding.Problem, finding.ReferencedBy));
        Assert.False(result.IsValid);
    }

    [Fact]
    public void Check_MissingTruncatedAndUnreferencedBlobs_AreEachReported()
    {
        using var dir = new TempDir();
        var (layout, manifest, layer) = OneImage(dir);
        var config = layout.ReadManifest(manifest.Digest).Config;
        File.Delete(layout.GetBlobPath(layer.Digest));
        File.WriteAllBytes(layout.GetBlobPath(config.Digest), File.ReadAllBytes(layout.GetBlobPath(config.Digest))[..^1]);
        var stray = layout.WriteBlob("stray"u8, "application/octet-stream");

        var result = LayoutChecker.Check(layout.Root);

        Assert.Equal(
            [(layer.Digest, BlobProblem.Missing, true), (config.Digest, BlobProblem.WrongSize, true), (stray.Digest, BlobProblem.Unreferenced, false)],
            result.Findings.Select(f => (f.Digest, f.Problem, f.IsError)).OrderBy(f => f.Problem));
    }

    [Fact]
    public void Check_CorruptManifest_IsReportedAndItsChildrenNotFollowed()
    {
        using var dir = new TempDir();
        var (layout, manifest, _) = OneImage(dir);
        Flip(layout.GetBlobPath(manifest.Digest));

        var result = LayoutChecker.Check(layout.Root);

        Assert.Contains(result.Findings, f => f.Digest == manifest.Digest && f.Problem == BlobProblem.WrongDigest && f.ReferencedBy == "index.json");
        Assert.Equal(2, result.Findings.Count(f => f.Problem == BlobProblem.Unreferenced)); // its config and layer
    }

    [Fact]
    public void Check_NotALayout_ThrowsOciFormatException()
    {
        using var dir = new TempDir();

        Assert.Throws<OciFormatException>(() => LayoutChecker.Check(dir.Path));
    }

    [Fact]
    public void WriteBlob_ExistingCorruptCopy_IsReplaced()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Combine("oci"));
        var small = layout.WriteBlob("{\"a\":1}"u8, MediaTypes.ImageConfig);
        var big = layout.WriteBlob(new MemoryStream(new byte[100_000]), MediaTypes.LayerTar);
        Flip(layout.GetBlobPath(small.Digest));
        Flip(layout.GetBlobPath(big.Digest));
        Assert.False(layout.VerifyBlob(small.Digest, small.Size));
        Assert.False(layout.VerifyBlob(big.Digest, big.Size));

        layout.WriteBlob("{\"a\":1}"u8, MediaTypes.ImageConfig);
        layout.WriteBlob(new MemoryStream(new byte[100_000]), MediaTypes.LayerTar);

        Assert.True(layout.VerifyBlob(small.Digest, small.Size));
        Assert.True(layout.VerifyBlob(big.Digest, big.Size));
    }

    [Fact]
    public void StampOf_RewrittenBlob_Changes()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Combine("oci"));
        var blob = layout.WriteBlob(new MemoryStream(Encoding.UTF8.GetBytes("content")), MediaTypes.LayerTar);
        var before = layout.StampOf(blob.Digest);

        // Same size, same mtime: only the inode (or ctime) tells that the bytes were replaced.
        var path = layout.GetBlobPath(blob.Digest);
        var mtime = File.GetLastWriteTimeUtc(path);
        File.WriteAllText(dir.Combine("other"), "CONTENT");
        File.Move(dir.Combine("other"), path, overwrite: true);
        File.SetLastWriteTimeUtc(path, mtime);

        Assert.NotNull(before);
        Assert.Equal(7, before.Value.Size);
        if (OperatingSystem.IsLinux())
        {
            Assert.NotEqual(before, layout.StampOf(blob.Digest));
        }

        Assert.Equal(before, BlobStamp.Parse(before.Value.ToString()));
        Assert.Null(layout.StampOf(Digest.Sha256("absent"u8)));
    }

    private static (OciLayout Layout, Descriptor Manifest, Descriptor Layer) OneImage(TempDir dir)
    {
        var layout = OciLayout.OpenOrCreate(dir.Combine("oci"));
        LayerResult layer;
        using (var blob = layout.BeginBlob())
        {
            layer = LayerWriter.Write([LayerEntry.Directory("/app"), LayerEntry.File("/app/a.txt", "hello"u8.ToArray())], blob.Stream, new LayerWriterOptions());
            blob.Complete();
        }

        var config = layout.WriteBlob(new ImageConfig { DiffIds = [layer.DiffId] }.ToJson(), MediaTypes.ImageConfig);
        var manifest = layout.WriteBlob(new ImageManifest { Config = config, Layers = [layer.ToDescriptor()] }.ToJson(), MediaTypes.ImageManifest);
        layout.Tag("app:1", manifest);
        return (layout, manifest, layer.ToDescriptor());
    }

    /// <summary>Flips four bytes in the middle of a file, keeping its size.</summary>
    private static void Flip(string path)
    {
        var bytes = File.ReadAllBytes(path);
        for (var i = bytes.Length / 2; i < (bytes.Length / 2) + 4 && i < bytes.Length; i++)
        {
            bytes[i] ^= 0xFF;
        }

        File.WriteAllBytes(path, bytes);
    }
}
