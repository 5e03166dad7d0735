namespace Kiln.Oci.Tests;

public class ArchiveWriterTests
{
    [ToolFact("tar")]
    public void WriteOciArchive_Image_RoundTripsThroughImportAndGnuTar()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Combine("src"));
        var manifest = ImageLayoutIntegrationTests.WriteOneLayerImage(layout, "app:1");
        var tagged = layout.FindManifest("app:1")!;
        using (var file = File.Create(dir.Combine("a.tar")))
        {
            ArchiveWriter.WriteOciArchive(layout, tagged, file);
        }

        var second = new MemoryStream();
        ArchiveWriter.WriteOciArchive(layout, tagged, second);
        Assert.Equal(File.ReadAllBytes(dir.Combine("a.tar")), second.ToArray());

        string listing = Tools.Sh("tar -tf a.tar", dir.Path);
        Assert.Contains("oci-layout", listing);
        Assert.Contains("index.json", listing);
        Assert.Contains($"blobs/sha256/{manifest.Digest.Encoded}", listing);
        var target = OciLayout.OpenOrCreate(dir.Combine("dst"));
        ArchiveReader.ImportInto(dir.Combine("a.tar"), target, "app:1", out var imported);
        Assert.Equal(manifest.Digest, imported.Digest);
    }

    [Fact]
    public void WriteDockerArchive_Image_ImportsBackToSameLayers()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Combine("src"));
        var manifest = ImageLayoutIntegrationTests.WriteOneLayerImage(layout, "app:1");
        using (var file = File.Create(dir.Combine("d.tar")))
        {
            ArchiveWriter.WriteDockerArchive(layout, manifest, ["example.com/app:1"], file);
        }

        var target = OciLayout.OpenOrCreate(dir.Combine("dst"));
        ArchiveReader.ImportInto(dir.Combine("d.tar"), target, "example.com/app:1", out var imported);
        var original = layout.ReadManifest(manifest.Digest);
        var roundTripped = target.ReadManifest(imported.Digest);
        Assert.Equal(original, roundTripped);
        Assert.Equal(manifest.Digest, imported.Digest);
    }
}
