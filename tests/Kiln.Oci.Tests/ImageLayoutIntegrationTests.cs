using System.Collections.Immutable;

namespace Kiln.Oci.Tests;

/// <summary>Real peers (oci-image-tool, umoci) accept what Kiln writes.</summary>
public class ImageLayoutIntegrationTests
{
    internal static Descriptor WriteOneLayerImage(OciLayout layout, string refName, IEnumerable<LayerEntry>? entries = null, LayerWriterOptions? options = null)
    {
        LayerResult layer;
        using (var writer = layout.BeginBlob())
        {
            layer = LayerWriter.Write(entries ?? LayerWriterTests.FixedTree(), writer.Stream, options ?? new LayerWriterOptions());
            Assert.Equal(layer.Digest, writer.Complete());
        }

        var config = new ImageConfig
        {
            Created = ImageConfig.FormatTimestamp(DateTimeOffset.UnixEpoch),
            Config = new ContainerConfig
            {
                User = "10001:10001",
                Entrypoint = ["/app/run.sh"],
                Env = ["PATH=/usr/bin:/bin"],
                WorkingDir = "/app",
                ExposedPorts = ImmutableSortedSet.Create(StringComparer.Ordinal, "8080/tcp"),
            },
            DiffIds = [layer.DiffId],
            History = [new HistoryEntry { Created = "1970-01-01T00:00:00Z", CreatedBy = "kiln test" }],
        };
        var configDescriptor = layout.WriteBlob(config.ToJson(), MediaTypes.ImageConfig);
        var manifest = new ImageManifest(configDescriptor, [layer.ToDescriptor()]);
        var manifestDescriptor = layout.WriteBlob(manifest.ToJson(), MediaTypes.ImageManifest);
        layout.Tag(refName, manifestDescriptor);
        return manifestDescriptor;
    }

    [ToolFact("oci-image-tool")]
    public void WriteImage_OneLayer_OciImageToolValidates()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Combine("oci"));
        WriteOneLayerImage(layout, "kiln-test:1.0.0");
        // A crash mid-write leaves a temp file behind: the layout must still validate.
        File.WriteAllText(dir.Combine("oci", OciLayout.TempDirectoryName, "blob-0123456789abcdef01234567"), "half a blob");
        string output = Tools.Sh($"oci-image-tool validate --type image {Tools.Quote(dir.Combine("oci"))} 2>&1");
        Assert.Contains("Validation succeeded", output);
    }

    [ToolFact("umoci")]
    public void WriteImage_OneLayer_UmociUnpacks()
    {
        Assert.True(Tools.IsRoot, "umoci unpack without --rootless needs root");
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Combine("oci"));
        WriteOneLayerImage(layout, "1.0.0");
        Tools.Sh($"umoci unpack --image {Tools.Quote(dir.Combine("oci"))}:1.0.0 {Tools.Quote(dir.Combine("bundle"))} 2>&1");
        string rootfs = dir.Combine("bundle", "rootfs");
        Assert.Equal("#!/bin/sh\nexec /app/Shop.Api \"$@\"\n", File.ReadAllText(Path.Combine(rootfs, "app", "run.sh")));
        Assert.Equal("/app/Shop.Api", new FileInfo(Path.Combine(rootfs, "usr", "bin", "shop")).LinkTarget);
        string config = File.ReadAllText(dir.Combine("bundle", "config.json"));
        Assert.Contains("/app/run.sh", config);
        Assert.Contains("\"uid\": 10001", config);
        Assert.Contains("\"cwd\": \"/app\"", config);
    }

    [ToolFact("umoci")]
    public void WriteImage_Twice_SameManifestDigest()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        var da = WriteOneLayerImage(OciLayout.OpenOrCreate(a.Path), "x:1");
        var db = WriteOneLayerImage(OciLayout.OpenOrCreate(b.Path), "x:1");
        Assert.Equal(da, db);
        Assert.Equal(File.ReadAllBytes(a.Combine("index.json")), File.ReadAllBytes(b.Combine("index.json")));
    }
}
