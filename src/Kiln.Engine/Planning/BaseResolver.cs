using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Planning;

/// <summary>Finds a base image in a local OCI layout or archive and reads its manifest and config.</summary>
internal static class BaseResolver
{
    public static BasePlan FromLayout(BuildRequest request, ResolvedServer server, OciLayoutBase spec, ISet<string> inputs)
    {
        var path = Path.GetFullPath(Path.Combine(request.ProjectDirectory, spec.Path));
        var indexPath = Path.Combine(path, "index.json");
        if (!File.Exists(indexPath) || !File.Exists(Path.Combine(path, "oci-layout")))
        {
            throw new KilnException(DiagnosticCodes.BaseNotFound, $"Spec '{server.SpecType}': base layout '{spec.Path}' is not an OCI image layout (looked for oci-layout and index.json in '{path}'). Fix the path, or create the layout (for example: skopeo copy docker-archive:base.tar oci:{spec.Path}:base).");
        }

        inputs.Add(indexPath);
        var name = $"oci:{Path.GetRelativePath(request.ProjectDirectory, path).Replace('\\', '/')}{(spec.Reference is null ? "" : ":" + spec.Reference)}";
        return Read(OpenLayout(path, server, spec.Path), spec.Reference, name, server, spec.Path);
    }

    public static BasePlan FromArchive(BuildRequest request, ResolvedServer server, ArchiveBase spec, ISet<string> inputs)
    {
        var path = Path.GetFullPath(Path.Combine(request.ProjectDirectory, spec.Path));
        if (!File.Exists(path))
        {
            throw new KilnException(DiagnosticCodes.BaseNotFound, $"Spec '{server.SpecType}': base archive '{spec.Path}' does not exist (looked for '{path}'). Fix the path or create the archive (docker save, skopeo copy … oci-archive:…).");
        }

        // Opening a FIFO would wait for a writer forever: the type is checked first, without opening it.
        if (InputFileTypes.Of(RealPath.TryResolve(path, out _) ?? path) is var type and not InputFileType.Regular)
        {
            throw new KilnException(DiagnosticCodes.InputNotRegularFile, $"Spec '{server.SpecType}': base archive '{spec.Path}' is {InputFileTypes.Describe(type)} ('{path}'), not a regular file. Point it at an archive file (docker save, skopeo copy … oci-archive:…).");
        }

        inputs.Add(path);
        var staging = OciLayout.OpenOrCreate(Path.Combine(request.IntermediateDirectory, "bases"));
        Descriptor manifest;
        try
        {
            ArchiveReader.ImportInto(path, staging, spec.Reference, out manifest);
        }
        catch (Exception e) when (e is OciFormatException or InvalidDataException or IOException)
        {
            throw new KilnException(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': base archive '{spec.Path}' could not be read: {e.Message}");
        }

        var name = $"archive:{Path.GetRelativePath(request.ProjectDirectory, path).Replace('\\', '/')}{(spec.Reference is null ? "" : ":" + spec.Reference)}";
        return Load(staging, manifest, name, server, spec.Path);
    }

    private static OciLayout OpenLayout(string path, ResolvedServer server, string display)
    {
        try
        {
            return OciLayout.Open(path);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.BaseNotFound, $"Spec '{server.SpecType}': base layout '{display}' could not be opened: {e.Message}");
        }
    }

    private static BasePlan Read(OciLayout layout, string? reference, string name, ResolvedServer server, string display)
    {
        Descriptor? manifest;
        try
        {
            manifest = layout.FindManifest(reference);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.BaseReferenceNotFound, $"Spec '{server.SpecType}': base layout '{display}': {e.Message} Name the image with BaseImage.OciLayout(path, \"name:tag\").");
        }

        if (manifest is null)
        {
            var available = layout.ReadIndex().Manifests
                .Select(m => m.Annotations?.GetValueOrDefault(AnnotationKeys.RefName))
                .Where(r => r is not null);
            throw new KilnException(DiagnosticCodes.BaseReferenceNotFound, $"Spec '{server.SpecType}': base layout '{display}' has no image '{reference}'. It has: {string.Join(", ", available.DefaultIfEmpty("(none)"))}.");
        }

        return Load(layout, manifest, name, server, display);
    }

    private static BasePlan Load(OciLayout layout, Descriptor manifest, string name, ResolvedServer server, string display)
    {
        try
        {
            if (manifest.MediaType is MediaTypes.ImageIndex or MediaTypes.DockerManifestList)
            {
                // A multi-platform base: take linux/amd64, the platform Kiln builds for.
                var index = ImageIndex.Parse(layout.ReadBlob(manifest.Digest));
                manifest = index.Manifests.FirstOrDefault(m => m.Platform is { Os: "linux", Architecture: "amd64" })
                    ?? throw new KilnException(DiagnosticCodes.BaseReferenceNotFound, $"Spec '{server.SpecType}': base '{display}' has no linux/amd64 image.");
            }

            var image = layout.ReadManifest(manifest.Digest);
            var config = layout.ReadConfig(image.Config.Digest);
            if (config.DiffIds.Length != image.Layers.Length)
            {
                throw new KilnException(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': base '{display}' is inconsistent: {image.Layers.Length} layers but {config.DiffIds.Length} diff_ids.");
            }

            foreach (var layer in image.Layers)
            {
                if (!layout.Contains(layer.Digest))
                {
                    throw new KilnException(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': base '{display}' lacks its layer blob {layer.Digest}.");
                }
            }

            return new BasePlan(name, manifest, config, image.Layers, layout);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': base '{display}' is not a valid image: {e.Message}");
        }
    }
}
