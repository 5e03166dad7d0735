using Kiln.Oci;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>Makes a one-layer busybox base image (an OCI layout) from the busybox-static binary, as a user's local base would be.</summary>
internal static class BusyboxLayout
{
    public const string Reference = "busybox:static";

    public static void Create(string layoutDirectory, string busybox)
    {
        var layout = OciLayout.OpenOrCreate(layoutDirectory);
        LayerEntry[] entries =
        [
            new("/bin", EntryKind.Directory) { Mode = 0x1ED },
            new("/bin/busybox", EntryKind.File) { Mode = 0x1ED, SourcePath = busybox },
            .. new[] { "sh", "echo", "cat", "ls", "sleep", "id", "touch" }.Select(tool => new LayerEntry($"/bin/{tool}", EntryKind.Symlink) { LinkTarget = "busybox", Mode = 0x1FF }),
            new("/tmp", EntryKind.Directory) { Mode = 0x3FF },
        ];
        LayerResult layer;
        using (var blob = layout.BeginBlob())
        {
            layer = LayerWriter.Write(entries, blob.Stream, new LayerWriterOptions());
            blob.Complete();
        }

        var config = new ImageConfig
        {
            Created = "1970-01-01T00:00:00Z",
            Config = new ContainerConfig { Env = ["PATH=/bin"], Cmd = ["/bin/sh"] },
            DiffIds = [layer.DiffId],
            History = [new HistoryEntry { Created = "1970-01-01T00:00:00Z", CreatedBy = "busybox-static" }],
        };
        var configDescriptor = layout.WriteBlob(config.ToJson(), MediaTypes.ImageConfig);
        var manifest = new ImageManifest
        {
            Config = configDescriptor,
            Layers = [new Descriptor(MediaTypes.LayerTarGzip, layer.Digest, layer.Size)],
        };
        layout.Tag(Reference, layout.WriteBlob(manifest.ToJson(), MediaTypes.ImageManifest));
    }
}
