using System.Collections.Immutable;
using Kiln.Engine.Building;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Engine.Lock;
using Kiln.Engine.Manifests;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;

namespace Kiln.Engine;

/// <summary>What evaluating a spec assembly found.</summary>
/// <param name="Servers">The resolved servers.</param>
/// <param name="PublishRequirements">The projects MSBuild must publish before the images can be built.</param>
/// <param name="Warnings">Coded warnings.</param>
public sealed record EvaluationResult(ImmutableArray<ResolvedServer> Servers, ImmutableArray<PublishRequirement> PublishRequirements, ImmutableArray<KilnDiagnostic> Warnings);

/// <summary>One image a build produced.</summary>
public sealed record BuiltImageSummary(string Name, string Version, Digest Digest, long Size, int Layers, int LayersWritten, string ManifestPath);

/// <summary>What a build produced.</summary>
/// <param name="Inputs">Every input read: files, and trees as <c>dir/**</c>; what the next incremental build must watch.</param>
public sealed record BuildResult(ImmutableArray<BuiltImageSummary> Images, ImmutableArray<KilnDiagnostic> Warnings, string ReleasePath, ImmutableArray<string> Inputs);

/// <summary>
/// The one entry point per verb that both the MSBuild tasks and the CLI call. Each method takes everything it needs as
/// input and throws <see cref="KilnException"/> for anything the user can fix.
/// </summary>
public static class KilnEngine
{
    /// <summary>The artifact layout under the output directory.</summary>
    public const string LayoutDirectory = "oci";

    /// <summary>Loads and validates the specs of <see cref="BuildRequest.Assembly"/>.</summary>
    public static EvaluationResult Evaluate(BuildRequest request)
    {
        var evaluation = SpecEvaluator.Evaluate(request.Assembly, request.PathMap);
        return new EvaluationResult(evaluation.Servers, Planner.PublishRequirements(evaluation.Servers, request), evaluation.Warnings);
    }

    /// <summary>
    /// Builds every image of the spec assembly into <see cref="BuildRequest.OutputDirectory"/>: the OCI layout, the Kiln
    /// manifests, the inventories and release.json. Everything is validated before anything is written; files are
    /// replaced atomically and the layout's index.json last, so a failure or a crash leaves the previous artifacts valid.
    /// </summary>
    public static BuildResult Build(BuildRequest request, Action<string>? log = null)
    {
        var evaluation = SpecEvaluator.Evaluate(request.Assembly, request.PathMap);
        var lockPath = Path.Combine(request.ProjectDirectory, KilnLock.FileName);
        var planner = new Planner(request, KilnLock.Load(lockPath));
        var plans = planner.Plan(evaluation.Servers);

        var output = Path.GetFullPath(request.OutputDirectory);
        OciLayout layout;
        ImmutableArray<BuiltImage> images;
        try
        {
            layout = OciLayout.OpenOrCreate(Path.Combine(output, LayoutDirectory));
            images = new ImageBuilder(request, layout).Build(plans, log);
        }
        catch (IOException e)
        {
            throw new KilnException(DiagnosticCodes.ArtifactWriteFailed, $"Writing the images under '{output}' failed: {e.Message}. Check free space and permissions; the previous artifacts are intact.");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new KilnException(DiagnosticCodes.ArtifactWriteFailed, $"Writing the images under '{output}' was refused: {e.Message}. Check permissions.");
        }

        var summaries = ImmutableArray.CreateBuilder<BuiltImageSummary>();
        var release = new List<ReleaseEntry>();
        foreach (var image in images)
        {
            var inventory = image.Inventory.ToBytes();
            var inventoryDigest = Digest.Sha256(inventory);
            AtomicFile.Write(Path.Combine(output, "inventory", KilnManifest.InventoryFileName(image)), inventory);
            var manifest = KilnManifest.Write(image, inventoryDigest, request, out var contentDigest);
            var manifestPath = Path.Combine(output, "manifests", KilnManifest.FileName(image));
            AtomicFile.Write(manifestPath, manifest);
            release.Add(new ReleaseEntry(image, contentDigest));
            summaries.Add(new BuiltImageSummary(
                image.Plan.Server.Name,
                image.Plan.Server.Version,
                image.Manifest.Digest,
                image.BaseLayers.Concat(image.Layers).Sum(l => l.Descriptor.Size) + image.Config.Size + image.Manifest.Size,
                image.BaseLayers.Length + image.Layers.Length,
                image.Layers.Count(l => !l.FromCache),
                manifestPath));
        }

        var releasePath = Path.Combine(output, Release.FileName);
        AtomicFile.Write(releasePath, Release.Write(release));

        // The index is replaced last: it names exactly this build's images.
        layout.WriteIndex(new ImageIndex
        {
            Manifests = [.. images
                .OrderBy(i => i.Plan.Server.Reference, StringComparer.Ordinal)
                .Select(i => i.Manifest with
                {
                    Annotations = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>(AnnotationKeys.RefName, i.Plan.Server.Reference)]),
                })],
        });
        RemoveStale(output, images);
        layout.CollectGarbage();
        planner.Lock.Save(lockPath);
        return new BuildResult(summaries.ToImmutable(), evaluation.Warnings, releasePath, [.. planner.Inputs]);
    }

    /// <summary>Manifests and inventories of images this build no longer produces would be mistaken for current ones.</summary>
    private static void RemoveStale(string output, ImmutableArray<BuiltImage> images)
    {
        var manifests = images.Select(KilnManifest.FileName).ToHashSet(StringComparer.Ordinal);
        var inventories = images.Select(KilnManifest.InventoryFileName).ToHashSet(StringComparer.Ordinal);
        foreach (var (directory, keep) in new[] { ("manifests", manifests), ("inventory", inventories) })
        {
            var path = Path.Combine(output, directory);
            if (!Directory.Exists(path))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(path).Where(f => !keep.Contains(Path.GetFileName(f))))
            {
                File.Delete(file);
            }
        }
    }
}
