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
    public static ReleaseDocument Document(IEnumerable<ReleaseEntry> entries, IReadOnlyList<ResolvedDeployment>? deployments = null) => new(
        KilnEngine.LayoutDirectory,
        [.. entries.OrderBy(e => e.Image.Plan.Server.Reference, StringComparer.Ordinal).Select(entry => new ReleaseImage(
            entry.Image.Plan.Server.Name,
            entry.Image.Plan.Server.Version,
            entry.Image.Plan.Server.Reference,
            entry.Image.Manifest.Digest,
            entry.Image.Manifest.MediaType,
            entry.Image.Manifest.Size,
            entry.Image.Config.Digest,
            $"manifests/{KilnManifest.FileName(entry.Image)}",
            entry.ManifestContentDigest,
            $"inventory/{KilnManifest.InventoryFileName(entry.Image)}",
            []))],
        // Deployments: which images each one runs, in rollout order, for `kiln plan`.
        [.. (deployments ?? []).Select(d => new ReleaseDeployment(d.Name, $"deploy/{d.Name}", [.. d.Components.Select(c => c.Server.Reference)]))]);

    public static byte[] Write(IEnumerable<ReleaseEntry> entries, IReadOnlyList<ResolvedDeployment>? deployments = null) =>
        Document(entries, deployments).ToJson();
}
