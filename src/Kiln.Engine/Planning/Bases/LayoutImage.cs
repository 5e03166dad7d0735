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

    /// <summary>The KILN2160 refusal of an index without <paramref name="platform"/>; <paramref name="what"/> opens the message.</summary>
    public static KilnException PlatformMissing(string what, Platform platform, string available) =>
        new(DiagnosticCodes.ImagePlatformMissing, $"{what} is a multi-platform image without an image for {platform}; it has: {available}. Choose a base (or a digest of it) that is built for {platform}, or build the server only for the platforms the base has.");

    /// <summary>The KILN2161 refusal of a single-platform image built for another platform than <paramref name="platform"/>.</summary>
    public static KilnException PlatformMismatch(string what, Digest manifest, ImageConfig config, Platform platform) =>
        new(DiagnosticCodes.ImagePlatformMismatch, $"{what} ({manifest}) is an image for {config.Os}/{config.Architecture}{(config.Variant is null ? "" : "/" + config.Variant)}, not {platform}: its config says so, and a server built on it for {platform} would not run. Use a base built for {platform} (for a registry base, the digest of its multi-platform index or of its {platform} manifest), or build the server only for {config.Os}/{config.Architecture}.");

    /// <summary>
    /// The base plan of <paramref name="manifest"/> in <paramref name="layout"/>: an index (a multi-platform base) is
    /// narrowed to <paramref name="platform"/>'s image (KILN2160 when it has none), a plain manifest's config must say that
    /// platform (KILN2161); the manifest, config and every layer blob must be there.
    /// </summary>
    public static BasePlan Load(OciLayout layout, Descriptor manifest, string name, ResolvedServer server, string display, Platform platform)
    {
        try
        {
            for (var depth = 0; MediaTypes.IsIndex(manifest.MediaType); depth++)
            {
                if (depth > 4)
                {
                    throw new OciFormatException($"indexes nest too deeply under {manifest.Digest}.");
                }

                var index = layout.ReadImageIndex(manifest.Digest);
                manifest = PlatformSelection.Select(index, platform)
                    ?? throw PlatformMissing($"Spec '{server.SpecType}': base '{display}'", platform, PlatformSelection.Available(index));
            }

            var image = layout.ReadManifest(manifest.Digest);
            var config = layout.ReadConfig(image.Config.Digest);
            if (!PlatformSelection.ConfigMatches(config, platform))
            {
                throw PlatformMismatch($"Spec '{server.SpecType}': base '{display}'", manifest.Digest, config, platform);
            }

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
