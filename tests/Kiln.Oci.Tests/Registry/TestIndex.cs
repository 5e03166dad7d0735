using System.Collections.Immutable;
using Kiln.Oci;

namespace Kiln.Tests.Registry;

/// <summary>
/// A multi-platform image written into a layout with Kiln.Oci's own writers, as a multi-platform build writes one: a
/// layer shared by every platform, a layer of each platform's own (/etc/platform holds its name), one image manifest
/// per platform and an index whose entries carry the platforms, tagged in index.json. Shared (linked) by the OCI and
/// integration test projects.
/// </summary>
/// <param name="Index">The index's descriptor (as tagged, without the ref-name annotation).</param>
/// <param name="Images">Each platform's image, in the index's order.</param>
internal sealed record TestIndex(Descriptor Index, ImmutableArray<TestIndex.PlatformImage> Images)
{
    /// <summary>One platform's image of the index.</summary>
    internal sealed record PlatformImage(Platform Platform, Descriptor Manifest, ImageManifest Image)
    {
        public Digest Config => Image.Config.Digest;
    }

    public static Platform Amd64 { get; } = new("amd64", "linux");

    public static Platform Arm64 { get; } = new("arm64", "linux");

    /// <summary>Writes the image for <paramref name="platforms"/> into <paramref name="layout"/>; tags the index
    /// <paramref name="refName"/> unless it is null.</summary>
    public static TestIndex Write(OciLayout layout, string? refName, params Platform[] platforms)
    {
        var shared = WriteLayer(layout, [LayerEntry.Directory("/etc"), LayerEntry.File("/etc/shared", "the same on every platform\n"u8.ToArray())]);
        var images = ImmutableArray.CreateBuilder<PlatformImage>();
        foreach (var platform in platforms)
        {
            var own = WriteLayer(layout, [LayerEntry.Directory("/etc"), LayerEntry.File("/etc/platform", System.Text.Encoding.UTF8.GetBytes(platform + "\n"))]);
            var config = new ImageConfig
            {
                Created = "1970-01-01T00:00:00Z",
                Architecture = platform.Architecture,
                Os = platform.Os,
                Variant = platform.Variant,
                Config = new ContainerConfig { Cmd = ["/bin/true"] },
                DiffIds = [shared.DiffId, own.DiffId],
            };
            var image = new ImageManifest
            {
                Config = layout.WriteBlob(config.ToJson(), MediaTypes.ImageConfig),
                Layers = [Layer(shared), Layer(own)],
            };
            var manifest = layout.WriteBlob(image.ToJson(), MediaTypes.ImageManifest) with { Platform = platform };
            images.Add(new PlatformImage(platform, manifest, image));
        }

        var index = new ImageIndex { Manifests = [.. images.Select(i => i.Manifest)] };
        var descriptor = layout.WriteBlob(index.ToJson(), MediaTypes.ImageIndex);
        if (refName is not null)
        {
            layout.Tag(refName, descriptor);
        }

        return new TestIndex(descriptor, images.ToImmutable());
    }

    public PlatformImage For(Platform platform) => Images.Single(i => i.Platform == platform);

    private static LayerResult WriteLayer(OciLayout layout, LayerEntry[] entries)
    {
        using var blob = layout.BeginBlob();
        var layer = LayerWriter.Write(entries, blob.Stream, new LayerWriterOptions());
        blob.Complete();
        return layer;
    }

    private static Descriptor Layer(LayerResult layer) => new(MediaTypes.LayerTarGzip, layer.Digest, layer.Size);
}
