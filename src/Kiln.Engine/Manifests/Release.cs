using Kiln.Engine.Building;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Oci;

namespace Kiln.Engine.Manifests;

internal sealed record ReleaseEntry(BuiltImage Image, Digest ManifestContentDigest);

/// <summary>
/// release.json: every image and digest one build produced. It is what CI publishes and what later verbs (push,
/// query, plan) read. It holds no time and no machine-specific path, so two builds of the same input agree on it.
/// </summary>
internal static class Release
{
    public const string FileName = "release.json";
    public const string Kind = "KilnRelease";

    /// <summary>The model of this build's release.json; <see cref="ReleaseDocument.ToJson"/> gives its bytes.</summary>
    /// <param name="entries">Every platform image of the build.</param>
    /// <param name="deployments">The deployments rendered from them.</param>
    /// <param name="indexes">
    /// The image index of each multi-platform server (by name:version). Such a server is one release image whose
    /// digest, media type and size are its index's; its config, content digest and inventory are those of its first
    /// platform (so that a reader that knows one image per server still finds one), and
    /// <see cref="ReleaseImage.Platforms"/> lists every platform image, in the spec's order. Every manifest path names
    /// the server's one Kiln manifest, which has a section per platform.
    /// </param>
    public static ReleaseDocument Document(IEnumerable<ReleaseEntry> entries, IReadOnlyList<ResolvedDeployment>? deployments = null, IReadOnlyDictionary<string, Descriptor>? indexes = null) => new(
        KilnEngine.LayoutDirectory,
        [.. entries.GroupBy(e => e.Image.Plan.Server.Reference, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(group =>
        {
            var first = group.First();
            var server = first.Image.Plan.Server;
            var top = indexes?.GetValueOrDefault(group.Key) ?? first.Image.Manifest;
            return new ReleaseImage(
                server.Name,
                server.Version,
                server.Reference,
                top.Digest,
                top.MediaType,
                top.Size,
                first.Image.Config.Digest,
                $"manifests/{KilnManifest.FileName(first.Image)}",
                first.ManifestContentDigest,
                $"inventory/{KilnManifest.InventoryFileName(first.Image)}",
                [])
            {
                Platforms = server.IsMultiPlatform
                    ? [.. group.Select(e => new ReleasePlatform(
                        e.Image.Plan.Platform.ToString(),
                        e.Image.Manifest.Digest,
                        e.Image.Manifest.MediaType,
                        e.Image.Manifest.Size,
                        e.Image.Config.Digest,
                        $"manifests/{KilnManifest.FileName(e.Image)}",
                        e.ManifestContentDigest,
                        $"inventory/{KilnManifest.InventoryFileName(e.Image)}",
                        $"sbom/{KilnManifest.SbomFileName(e.Image)}"))]
                    : [],
            };
        })],
        // Deployments: which images each one runs, in rollout order, for `kiln plan`.
        [.. (deployments ?? []).Select(d => new ReleaseDeployment(d.Name, $"deploy/{d.Name}", [.. d.Components.Select(c => c.Server.Reference)]))]);

    public static byte[] Write(IEnumerable<ReleaseEntry> entries, IReadOnlyList<ResolvedDeployment>? deployments = null, IReadOnlyDictionary<string, Descriptor>? indexes = null) =>
        Document(entries, deployments, indexes).ToJson();
}
