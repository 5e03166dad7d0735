using System.Text;

namespace Kiln.Oci.Tests;

public class OciLayoutTests
{
    [Fact]
    public void OpenOrCreate_NewDirectory_WritesLayoutFileAndEmptyIndex()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Combine("oci"));
        Assert.Equal("{\"imageLayoutVersion\":\"1.0.0\"}", File.ReadAllText(dir.Combine("oci", "oci-layout")));
        Assert.True(Directory.Exists(dir.Combine("oci", "blobs", "sha256")));
        Assert.Empty(layout.ReadIndex().Manifests);
        Assert.Equal(ImageIndex.Empty.ToJson(), File.ReadAllBytes(dir.Combine("oci", "index.json")));
    }

    [Fact]
    public void Open_NotALayout_ThrowsOciFormatException()
    {
        using var dir = new TempDir();
        Assert.Throws<OciFormatException>(() => OciLayout.Open(dir.Path));
        dir.WriteFile("oci-layout", "{\"imageLayoutVersion\":\"2.0.0\"}");
        Assert.Throws<OciFormatException>(() => OciLayout.Open(dir.Path));
        dir.WriteFile("oci-layout", "garbage");
        Assert.Throws<OciFormatException>(() => OciLayout.Open(dir.Path));
    }

    [Fact]
    public void WriteBlob_Span_StoresUnderDigestAndReadsBack()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        var descriptor = layout.WriteBlob("hello"u8, "text/plain");
        Assert.Equal(Digest.Sha256("hello"u8), descriptor.Digest);
        Assert.Equal(5, descriptor.Size);
        Assert.True(layout.Contains(descriptor.Digest));
        Assert.Equal(dir.Combine("blobs", "sha256", descriptor.Digest.Encoded), layout.GetBlobPath(descriptor.Digest));
        Assert.Equal("hello"u8.ToArray(), layout.ReadBlob(descriptor.Digest));
        using var stream = layout.OpenBlob(descriptor.Digest);
        Assert.Equal(5, stream.Length);
    }

    [Fact]
    public void WriteBlob_Stream_SameAsSpan()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        var a = layout.WriteBlob(new MemoryStream(Encoding.UTF8.GetBytes("same")), "x");
        var b = layout.WriteBlob("same"u8, "x");
        Assert.Equal(a, b);
    }

    [Fact]
    public void ReadBlob_Corrupt_ThrowsOciFormatException()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        var d = layout.WriteBlob("good"u8, "x");
        File.WriteAllText(layout.GetBlobPath(d.Digest), "evil");
        var e = Assert.Throws<OciFormatException>(() => layout.ReadBlob(d.Digest));
        Assert.Contains(d.Digest.ToString(), e.Message);
    }

    [Fact]
    public void ReadBlob_Missing_ThrowsOciFormatException()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        Assert.Throws<OciFormatException>(() => layout.ReadBlob(Digest.Sha256("nope"u8)));
        Assert.Throws<OciFormatException>(() => layout.OpenBlob(Digest.Sha256("nope"u8)));
    }

    [Fact]
    public void BeginBlob_DisposeWithoutComplete_LeavesNothing()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        using (var writer = layout.BeginBlob())
        {
            writer.Stream.Write("partial"u8);
        }

        Assert.Empty(Directory.EnumerateFiles(dir.Combine("blobs"), "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(dir.Combine(OciLayout.TempDirectoryName), "blob-*"));
        Assert.False(layout.Contains(Digest.Sha256("partial"u8)));
    }

    [Fact]
    public void BeginBlob_Complete_MovesIntoPlaceAndCleansTemp()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        Digest digest;
        using (var writer = layout.BeginBlob())
        {
            writer.Stream.Write("abc"u8);
            Assert.Equal(3, writer.Length);
            digest = writer.Complete();
        }

        Assert.Equal(Digest.Sha256("abc"u8), digest);
        Assert.True(layout.Contains(digest));
        Assert.Empty(Directory.EnumerateFiles(dir.Combine(OciLayout.TempDirectoryName), "blob-*"));
    }

    [Fact]
    public void BeginBlob_SameBlobTwiceConcurrently_BothSucceed()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        var other = OciLayout.Open(dir.Path);
        byte[] content = new byte[1 << 20];
        new Random(1).NextBytes(content);
        using var a = layout.BeginBlob();
        using var b = other.BeginBlob();
        a.Stream.Write(content);
        b.Stream.Write(content);
        var da = a.Complete();
        var db = b.Complete();
        Assert.Equal(da, db);
        Assert.Equal(content, layout.ReadBlob(da));
        Parallel.For(0, 8, _ => Assert.Equal(da, OciLayout.Open(dir.Path).WriteBlob(content, "x").Digest));
        Assert.Equal(content, layout.ReadBlob(da));
    }

    [Fact]
    public void Tag_SameRefTwice_ReplacesAndKeepsSorted()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        var m1 = layout.WriteBlob("m1"u8, MediaTypes.ImageManifest);
        var m2 = layout.WriteBlob("m2"u8, MediaTypes.ImageManifest);
        layout.Tag("web:2", m1);
        layout.Tag("api:1", m1);
        layout.Tag("web:2", m2);
        var index = layout.ReadIndex();
        Assert.Equal(["api:1", "web:2"], index.Manifests.Select(m => m.RefName));
        Assert.Equal(m2.Digest, index.Manifests[1].Digest);
        Assert.Equal(m2.Digest, layout.FindManifest("web:2")!.Digest);
        Assert.Null(layout.FindManifest("nope:1"));
        Assert.Throws<OciFormatException>(() => layout.FindManifest(null));
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.tmp*"));
    }

    [Fact]
    public void FindManifest_NullWithOneEntry_ReturnsIt()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        Assert.Throws<OciFormatException>(() => layout.FindManifest(null));
        var m = layout.WriteBlob("m"u8, MediaTypes.ImageManifest);
        layout.WriteIndex(new ImageIndex { Manifests = [m] });
        Assert.Equal(m, layout.FindManifest(null));
    }

    [Fact]
    public void WriteIndex_Replaces_AtomicallyWithoutLeftovers()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        var m = layout.WriteBlob("m"u8, MediaTypes.ImageManifest);
        var index = new ImageIndex { Manifests = [m] };
        layout.WriteIndex(index);
        Assert.Equal(index.ToJson(), File.ReadAllBytes(dir.Combine("index.json")));
        Assert.Equal(index, layout.ReadIndex());
        Assert.Empty(Directory.EnumerateFiles(dir.Combine(OciLayout.TempDirectoryName), "file-*"));
    }

    [Fact]
    public void ReadIndex_Corrupt_ThrowsOciFormatExceptionNamingFile()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        File.WriteAllText(dir.Combine("index.json"), "{");
        var e = Assert.Throws<OciFormatException>(() => layout.ReadIndex());
        Assert.Contains("index.json", e.Message);
    }

    [Fact]
    public void ReadManifestAndConfig_Written_RoundTrip()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        var config = new ImageConfig { Created = "1970-01-01T00:00:00Z" };
        var configDescriptor = layout.WriteBlob(config.ToJson(), MediaTypes.ImageConfig);
        var manifest = new ImageManifest(configDescriptor, []);
        var manifestDescriptor = layout.WriteBlob(manifest.ToJson(), MediaTypes.ImageManifest);
        Assert.Equal(manifest, layout.ReadManifest(manifestDescriptor.Digest));
        Assert.Equal(config, layout.ReadConfig(configDescriptor.Digest));
        Assert.Throws<OciFormatException>(() => layout.ReadManifest(configDescriptor.Digest));
        Assert.Equal(manifest, layout.ResolveManifest(manifestDescriptor).Manifest);
    }

    [Fact]
    public void CollectGarbage_UnreferencedBlob_Deleted()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Path);
        var configDescriptor = layout.WriteBlob(new ImageConfig().ToJson(), MediaTypes.ImageConfig);
        var manifestDescriptor = layout.WriteBlob(new ImageManifest(configDescriptor, []).ToJson(), MediaTypes.ImageManifest);
        var stray = layout.WriteBlob("stray"u8, "x");
        layout.Tag("a:1", manifestDescriptor);
        layout.CollectGarbage();
        Assert.False(layout.Contains(stray.Digest));
        Assert.True(layout.Contains(configDescriptor.Digest));
        Assert.True(layout.Contains(manifestDescriptor.Digest));
    }
}
