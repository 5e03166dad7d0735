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
    public static void Export(string layoutPath, string reference, ArchiveFormat format, string destination)
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
}
