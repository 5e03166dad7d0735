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

    public static byte[] Write(IEnumerable<ReleaseEntry> entries, IReadOnlyList<ResolvedDeployment>? deployments = null) => JsonText.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("kind", Kind);
        w.WriteNumber("schemaVersion", 1);
        w.WriteString("layout", KilnEngine.LayoutDirectory);
        w.WriteStartArray("images");
        foreach (var entry in entries.OrderBy(e => e.Image.Plan.Server.Reference, StringComparer.Ordinal))
        {
            var image = entry.Image;
            w.WriteStartObject();
            w.WriteString("name", image.Plan.Server.Name);
            w.WriteString("version", image.Plan.Server.Version);
            w.WriteString("reference", image.Plan.Server.Reference);
            w.WriteString("digest", image.Manifest.Digest.ToString());
            w.WriteString("mediaType", image.Manifest.MediaType);
            w.WriteNumber("size", image.Manifest.Size);
            w.WriteString("configDigest", image.Config.Digest.ToString());
            w.WriteString("manifest", $"manifests/{KilnManifest.FileName(image)}");
            w.WriteString("manifestContentDigest", entry.ManifestContentDigest.ToString());
            w.WriteString("inventory", $"inventory/{KilnManifest.InventoryFileName(image)}");
            w.WriteEndObject();
        }

        w.WriteEndArray();

        // Deployments: which images each one runs, in rollout order, for `kiln plan`. Absent when there are none.
        if (deployments is { Count: > 0 })
        {
            w.WriteStartArray("deployments");
            foreach (var deployment in deployments)
            {
                w.WriteStartObject();
                w.WriteString("name", deployment.Name);
                w.WriteString("directory", $"deploy/{deployment.Name}");
                w.WriteStartArray("components");
                foreach (var component in deployment.Components)
                {
                    w.WriteStringValue(component.Server.Reference);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    });
}
