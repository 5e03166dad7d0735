using System.Text;
using Kiln.Oci;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>
/// Writes multi-platform images through Kiln.Oci's own API, as the build writes them for a spec with several
/// platforms: one image manifest per platform (config <c>os</c>/<c>architecture</c> from the platform), one layer shared
/// by every platform (the same blob) and one of each platform's own, and an OCI image index, manifests in the order
/// given, each descriptor with its <c>platform</c>, tagged <c>name:version</c> (one platform: the plain manifest is tagged).
/// </summary>
internal static class MultiPlatformImage
{
    /// <summary>One platform's image: its platform and the files of its own layer (path, content; executables by content).</summary>
    public sealed record PlatformImage(Platform Platform, IReadOnlyList<LayerEntry> Entries, ContainerConfig? Config = null);

    /// <summary>linux/amd64 and linux/arm64, each with a text file naming its platform.</summary>
    public static PlatformImage[] TwoPlatforms { get; } =
    [
        new(new Platform("amd64", "linux"), [LayerEntry.Directory("/app"), LayerEntry.File("/app/platform.txt", "linux/amd64\n"u8.ToArray())]),
        new(new Platform("arm64", "linux"), [LayerEntry.Directory("/app"), LayerEntry.File("/app/platform.txt", "linux/arm64\n"u8.ToArray())]),
    ];

    /// <summary>
    /// Writes the images and their index into <paramref name="layoutDirectory"/> and tags the index
    /// <paramref name="reference"/>; with one platform, tags its plain image manifest instead (as a one-platform spec builds).
    /// </summary>
    /// <returns>The tagged descriptor (untagged copy) and each platform's manifest descriptor (with its platform), in order.</returns>
    public static (Descriptor Tagged, Descriptor[] Manifests) Write(string layoutDirectory, string reference, params PlatformImage[] platforms)
    {
        var layout = OciLayout.OpenOrCreate(layoutDirectory);
        var shared = WriteLayer(layout, [LayerEntry.Directory("/etc"), LayerEntry.File("/etc/kiln-shared.conf", Encoding.UTF8.GetBytes($"image={reference}\n"))]);
        var manifests = platforms.Select(p =>
        {
            var own = WriteLayer(layout, p.Entries);
            var config = new ImageConfig
            {
                Created = "1970-01-01T00:00:00Z",
                Architecture = p.Platform.Architecture,
                Os = p.Platform.Os,
                Variant = p.Platform.Variant,
                Config = p.Config ?? new ContainerConfig { Entrypoint = ["/app/run"] },
                DiffIds = [shared.DiffId, own.DiffId],
                History =
                [
                    new HistoryEntry { Created = "1970-01-01T00:00:00Z", CreatedBy = "kiln: shared" },
                    new HistoryEntry { Created = "1970-01-01T00:00:00Z", CreatedBy = $"kiln: {p.Platform}" },
                ],
            };
            var manifest = new ImageManifest
            {
                Config = layout.WriteBlob(config.ToJson(), MediaTypes.ImageConfig),
                Layers = [shared.Descriptor, own.Descriptor],
            };
            return layout.WriteBlob(manifest.ToJson(), MediaTypes.ImageManifest) with { Platform = p.Platform };
        }).ToArray();
        if (manifests.Length == 1)
        {
            var plain = manifests[0] with { Platform = null };
            layout.Tag(reference, plain);
            return (plain, manifests);
        }

        var index = layout.WriteBlob(new ImageIndex { Manifests = [.. manifests] }.ToJson(), MediaTypes.ImageIndex);
        layout.Tag(reference, index);
        return (index, manifests);
    }

    /// <summary>Writes the index tagged <paramref name="reference"/> in <paramref name="layoutDirectory"/> as an OCI archive.</summary>
    public static void WriteArchive(string layoutDirectory, string reference, string archivePath)
    {
        var layout = OciLayout.Open(layoutDirectory);
        var index = layout.FindManifest(reference) ?? throw new InvalidOperationException($"{reference} is not in {layoutDirectory}");
        using var archive = File.Create(archivePath);
        ArchiveWriter.WriteOciArchive(layout, index, archive);
    }

    private static (Digest DiffId, Descriptor Descriptor) WriteLayer(OciLayout layout, IEnumerable<LayerEntry> entries)
    {
        using var blob = layout.BeginBlob();
        var layer = LayerWriter.Write(entries, blob.Stream, new LayerWriterOptions());
        blob.Complete();
        return (layer.DiffId, new Descriptor(MediaTypes.LayerTarGzip, layer.Digest, layer.Size));
    }
}
