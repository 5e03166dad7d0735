using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;
using Kiln.Oci;
using Kiln.Oci.IO;

namespace Kiln.Engine.Registry;

/// <summary>The archive formats other tools load.</summary>
public enum ArchiveFormat
{
    /// <summary>An OCI image layout in a tar (<c>skopeo copy oci-archive:</c>, <c>podman load</c>).</summary>
    OciArchive,

    /// <summary><c>docker save</c>'s format (<c>docker load</c>, <c>skopeo copy docker-archive:</c>).</summary>
    DockerArchive,
}

/// <summary>Writes one image of a layout as an archive, through a temp file so that a failure leaves no half archive.</summary>
internal static class ImageExporter
{
    public static void Export(string layoutPath, string reference, ArchiveFormat format, string destination, Platform? platform = null)
    {
        OciLayout layout;
        Descriptor? manifest;
        try
        {
            layout = OciLayout.Open(layoutPath);
            manifest = layout.FindManifest(reference);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.ExportFailed, $"'{layoutPath}' is not a readable OCI layout: {e.Message} Point at a build's kiln/oci directory.");
        }

        if (manifest is null)
        {
            var names = layout.ReadIndex().Manifests.Select(m => m.RefName).Where(n => n is not null);
            throw new KilnException(DiagnosticCodes.ExportFailed, $"The layout '{layoutPath}' has no image '{reference}'. It has: {string.Join(", ", names.DefaultIfEmpty("(none)"))}.");
        }

        if (MediaTypes.IsIndex(manifest.MediaType) && (platform is not null || format == ArchiveFormat.DockerArchive))
        {
            manifest = PlatformImage(layout, layoutPath, reference, manifest, platform);
        }

        try
        {
            // Written through a temp file renamed into place only when complete: a refused blob leaves no archive.
            AtomicFile.Write(Path.GetFullPath(destination), stream =>
            {
                if (format == ArchiveFormat.DockerArchive)
                {
                    ArchiveWriter.WriteDockerArchive(layout, manifest, [reference], stream);
                }
                else
                {
                    ArchiveWriter.WriteOciArchive(layout, manifest, stream);
                }
            });
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.ExportFailed, $"Exporting '{reference}' from '{layoutPath}' failed: {e.Message}");
        }
        catch (ContentMismatchException e)
        {
            throw ImagePusher.Corrupt(layout, e.Message, $"no archive was written for '{reference}'");
        }
    }

    /// <summary>
    /// The platforms of <paramref name="reference"/> when it names an image index in the layout, in the index's order;
    /// empty for a plain image manifest.
    /// </summary>
    public static IReadOnlyList<Platform> Platforms(string layoutPath, string reference)
    {
        var layout = OciLayout.Open(layoutPath);
        return layout.FindManifest(reference) is { } manifest && MediaTypes.IsIndex(manifest.MediaType)
            ? [.. layout.ReadImageIndex(manifest.Digest).Manifests.Select(m => m.Platform).OfType<Platform>()]
            : [];
    }

    /// <summary>
    /// One platform's image out of a multi-platform index: a docker-archive holds one image per tag, and
    /// <c>--platform</c> asks for one. Without a platform (a docker-archive of an index), the caller must name one.
    /// </summary>
    private static Descriptor PlatformImage(OciLayout layout, string layoutPath, string reference, Descriptor index, Platform? platform)
    {
        var images = layout.ReadImageIndex(index.Digest);
        if (platform is null)
        {
            throw new KilnException(DiagnosticCodes.ExportFailed, $"'{reference}' in '{layoutPath}' is a multi-platform image ({PlatformSelection.Available(images)}), and a docker-archive holds one image: name the platform to export with --platform, or export the whole index as an oci-archive.");
        }

        return PlatformSelection.Select(images, platform)
            ?? throw new KilnException(DiagnosticCodes.ImagePlatformMissing, $"'{reference}' in '{layoutPath}' is a multi-platform image without an image for {platform}; it has: {PlatformSelection.Available(images)}. Name one of those with --platform.");
    }
}
