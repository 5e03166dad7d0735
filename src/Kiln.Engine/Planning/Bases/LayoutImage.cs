using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Oci;

namespace Kiln.Engine.Planning.Bases;

/// <summary>Reads a base image out of a layout it was found or pulled into, checking that it is whole.</summary>
internal static class LayoutImage
{
    /// <summary>
    /// The base's name in manifests: <paramref name="scheme"/>, the path relative to the project (never the checkout
    /// directory, which would make two checkouts disagree) and the reference when the spec names one.
    /// </summary>
    public static string Name(string scheme, string projectDirectory, string path, string? reference) =>
        $"{scheme}:{Path.GetRelativePath(projectDirectory, path).Replace('\\', '/')}{(reference is null ? "" : ":" + reference)}";

    /// <summary>
    /// The base plan of <paramref name="manifest"/> in <paramref name="layout"/>: an index (a multi-platform base) is
    /// narrowed to <paramref name="platform"/>'s image; the manifest, config and every layer blob must be there.
    /// </summary>
    public static BasePlan Load(OciLayout layout, Descriptor manifest, string name, ResolvedServer server, string display, Platform platform)
    {
        try
        {
            if (manifest.MediaType is MediaTypes.ImageIndex or MediaTypes.DockerManifestList)
            {
                var index = ImageIndex.Parse(layout.ReadBlob(manifest.Digest));
                manifest = index.Manifests.FirstOrDefault(m => m.Platform is { } p && p.Os == platform.Os && p.Architecture == platform.Architecture)
                    ?? throw new KilnException(DiagnosticCodes.BaseReferenceNotFound, $"Spec '{server.SpecType}': base '{display}' has no {platform.Os}/{platform.Architecture} image.");
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
