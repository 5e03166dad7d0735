using System.Collections.Immutable;
using Kiln.Engine.Attestation;
using Kiln.Engine.Building;
using Kiln.Engine.Deploy;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Diff;
using Kiln.Engine.Drift;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Engine.Lock;
using Kiln.Engine.Manifests;
using Kiln.Engine.Planning;
using Kiln.Engine.Query;
using Kiln.Engine.Requests;
using Kiln.Oci;

namespace Kiln.Engine;

/// <summary>What evaluating a spec assembly found.</summary>
/// <param name="Servers">The resolved servers.</param>
/// <param name="PublishRequirements">The projects MSBuild must publish before the images can be built.</param>
/// <param name="Warnings">Coded warnings.</param>
public sealed record EvaluationResult(ImmutableArray<ResolvedServer> Servers, ImmutableArray<PublishRequirement> PublishRequirements, ImmutableArray<KilnDiagnostic> Warnings);

/// <summary>One image a build produced (for a multi-platform server, one per platform).</summary>
public sealed record BuiltImageSummary(string Name, string Version, Digest Digest, long Size, int Layers, int LayersWritten, string ManifestPath)
{
    /// <summary>The image's platform (os/arch) when the server is built for several; null for a single-platform server.</summary>
    public string? Platform { get; init; }

    /// <summary>The digest of the server's image index (what name:version is tagged as) when it is built for several platforms.</summary>
    public Digest? IndexDigest { get; init; }
}

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

    /// <summary>Loads and validates the specs of <see cref="EvaluationOptions.Assembly"/>, and lists the projects they publish.</summary>
    public static EvaluationResult Evaluate(EvaluationOptions evaluation, ProjectOptions project)
    {
        var specs = SpecEvaluator.Evaluate(evaluation.Assembly, evaluation.PathMap, EvaluationTimeout(evaluation));
        Planner.CheckPublishProjects(specs.Servers, project); // a coded error now, not MSBuild's MSB3202 later
        Planner.CheckNarrowing(specs.Servers, project.Platforms);
        return new EvaluationResult(specs.Servers, Planner.PublishRequirements(specs.Servers, project, project.Platforms), specs.Warnings);
    }

    private static TimeSpan EvaluationTimeout(EvaluationOptions evaluation)
    {
        if (evaluation.TimeoutSeconds <= 0)
        {
            throw new KilnException(DiagnosticCodes.InvalidEvaluationTimeout, $"KilnEvaluationTimeout is {evaluation.TimeoutSeconds}; it must be a positive number of seconds (default {KilnDefaults.EvaluationTimeoutSeconds}).");
        }

        return TimeSpan.FromSeconds(evaluation.TimeoutSeconds);
    }

    /// <summary>What differs between two versions (manifests, release.json files or name:version): settings, packages, files.</summary>
    public static DiffResult Diff(DiffRequest request) => ManifestDiff.Diff(request);

    /// <summary><c>kiln plan</c>: which components roll between two releases, in which order, and what changed in each.</summary>
    public static RolloutPlanResult Plan(PlanRequest request) => RolloutPlan.Plan(request);

    /// <summary>Compares an instance's root file system with its image's inventory (configuration drift).</summary>
    public static VerifyResult Verify(VerifyRequest request) => InstanceVerifier.Verify(request);

    /// <summary>One setting across every server of a set of releases or manifests.</summary>
    public static ImmutableArray<QueryRow> Query(QueryRequest request) => SettingQuery.Query(request);

    /// <summary>Every locked version of a server: digest, parent and what changed.</summary>
    public static ImmutableArray<VersionHistoryEntry> History(HistoryRequest request) => VersionHistory.History(request);

    /// <summary>
    /// Builds every image of the spec assembly into <see cref="BuildRequest.OutputDirectory"/>: the OCI layout, the Kiln
    /// manifests, the inventories and release.json. Everything is validated before anything is written; files are
    /// replaced atomically and the layout's index.json last, so a failure or a crash leaves the previous artifacts valid.
    /// </summary>
    /// <param name="request">What to build, and how.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="settingsChecked">
    /// Called once the specs are evaluated and the settings checked, before planning reads the lock file and anything
    /// is written: where the caller takes the output directory's lock, so that a build refused there never creates it.
    /// </param>
    /// <param name="publishedOutputsReady">
    /// Called after the bases are resolved and before the published output is read (see
    /// <see cref="Planner.PublishedOutputsReady"/>): a build started while MSBuild still publishes waits there; false
    /// calls it off with <see cref="OperationCanceledException"/>, nothing written.
    /// </param>
    public static BuildResult Build(BuildRequest request, Action<string>? log = null, Action? settingsChecked = null, Func<bool>? publishedOutputsReady = null)
    {
        var project = request.Project;
        var evaluation = SpecEvaluator.Evaluate(request.Evaluation.Assembly, request.Evaluation.PathMap, EvaluationTimeout(request.Evaluation));
        Planner.CheckNarrowing(evaluation.Servers, project.Platforms);
        DeploymentArtifacts.ValidateSettings(request.Deployment.Registry, request.Deployment.RepositoryPrefix);
        var lockPath = Path.Combine(project.ProjectDirectory, KilnLock.FileName);
        var lockMode = VersionLock.ParseMode(request.Lock.Mode); // a bad KilnLockMode fails before any work
        using var signer = ImageAttestations.SignerFor(request.Attestation, project.ProjectDirectory); // so does an unusable signing key
        var verificationKey = string.IsNullOrWhiteSpace(request.Deployment.VerificationKey) ? null : Deploy.AdmissionPolicy.LoadPublicKey(Path.GetFullPath(request.Deployment.VerificationKey, project.ProjectDirectory));
        settingsChecked?.Invoke();
        var output = Path.GetFullPath(request.OutputDirectory);
        ImageBuilder? builder = null;
        var prepared = new Dictionary<BuiltImage, ImageFiles>(ReferenceEqualityComparer.Instance);
        // Opened when the first image work needs it: the bases' import before the wait, else the image build.
        ImageBuilder Builder() => builder ??= new ImageBuilder(project, OciLayout.OpenOrCreate(Path.Combine(output, LayoutDirectory)));
        var planner = new Planner(project, KilnLock.Load(lockPath))
        {
            Packages = request.Packages,
            Registry = request.Registry,
            UpdatePins = request.Lock.Update,
            RegistryLog = log is null ? null : Registry.TransferLog.Lines(log),
            PublishedOutputsReady = publishedOutputsReady,
            Publishing = request.Publishing is { IsDefault: false } publishing ? publishing.ToHashSet(StringComparer.Ordinal) : null,
            BeforeWait = (bases, ready) => Artifacts(output, () =>
            {
                // While MSBuild publishes: the bases' import, and the images that read nothing it writes, up to their
                // inventories and SBOMs; after the wait only what the publish changed is left.
                Builder().ImportBases(bases);
                foreach (var image in Builder().Build(ready, log))
                {
                    prepared[image] = ImageFiles.Of(image, project, request.Attestation.Provenance);
                }
            }),
        };
        var plans = planner.Plan(evaluation.Servers);
        var images = Artifacts(output, () => Builder().Build(plans, log));
        var layout = Builder().Layout;
        var files = images.ToDictionary(i => i, i => prepared.TryGetValue(i, out var ready) ? ready : ImageFiles.Of(i, project, request.Attestation.Provenance));

        // A multi-platform server is one image index over its platform images, in the spec's order; the index blob is
        // written now (unreferenced until index.json names it), so that the lock can check its digest.
        var servers = images.GroupBy(i => i.Plan.Server.Reference, StringComparer.Ordinal).ToList();
        var indexes = new Dictionary<string, Descriptor>(StringComparer.Ordinal);
        foreach (var group in servers.Where(g => g.First().Plan.Server.IsMultiPlatform))
        {
            var index = new ImageIndex { Manifests = [.. group.Select(i => i.Manifest with { Platform = i.Plan.OciPlatform })] };
            indexes[group.Key] = WriteArtifactBlob(layout, output, index.ToJson(), MediaTypes.ImageIndex);
        }

        // The version lock is checked once every digest is known and before any artifact that names one is written, so
        // that an Enforce failure leaves the previous manifests, release.json and index.json valid (new blobs stay unreferenced).
        var locked = VersionLock.Apply(
            planner.Lock,
            servers.Select(group =>
            {
                var server = group.First().Plan.Server;
                var multi = server.IsMultiPlatform;
                return new LockCandidate(
                    server.Name,
                    server.Version,
                    (multi ? indexes[group.Key] : group.First().Manifest).Digest.ToString(),
                    (multi ? CombinedContentDigest(group.Select(i => files[i].ContentDigest)) : files[group.First()].ContentDigest).ToString())
                {
                    // Each platform's package set has its own record of the last update; any of them names the reason.
                    BaseUpdate = group
                        .Select(i => i.Plan.Base.PackageSetKey is { } packageSet ? planner.Lock.PackageBases.GetValueOrDefault(packageSet)?.Update : null)
                        .FirstOrDefault(update => update is not null),
                    Platforms = multi ? group.ToImmutableSortedDictionary(i => i.Plan.Platform.ToString(), i => i.Manifest.Digest.ToString(), StringComparer.Ordinal) : null,
                    Partial = multi && group.Count() < server.Platforms.Length,
                };
            }),
            lockMode,
            request.Lock.Update,
            lockPath);
        planner.Lock = locked.Lock;

        // One Kiln manifest per server: a multi-platform server's holds a section per platform image, in the spec's order.
        foreach (var group in servers)
        {
            var first = group.First();
            var document = KilnManifest.Document(
                [.. group.Select(i => (i, files[i].InventoryDigest))],
                indexes.TryGetValue(group.Key, out var serverIndex) ? serverIndex : null,
                project,
                request.Attestation.Provenance,
                locked.Lineage.GetValueOrDefault((first.Plan.Server.Name, first.Plan.Server.Version)));
            AtomicFile.WriteIfChanged(Path.Combine(output, "manifests", KilnManifest.FileName(first)), document.ToJson());
        }

        var summaries = ImmutableArray.CreateBuilder<BuiltImageSummary>();
        var release = new List<ReleaseEntry>();
        var referrers = new List<Descriptor>();
        foreach (var image in images)
        {
            var (inventory, _, contentDigest, sbom) = files[image];
            AtomicFile.WriteIfChanged(Path.Combine(output, "inventory", KilnManifest.InventoryFileName(image)), inventory);
            var manifestPath = Path.Combine(output, "manifests", KilnManifest.FileName(image));
            AtomicFile.WriteIfChanged(Path.Combine(output, "sbom", KilnManifest.SbomFileName(image)), sbom);
            referrers.AddRange(ImageAttestations.Write(output, layout, image, request, sbom, signer));
            release.Add(new ReleaseEntry(image, contentDigest));
            summaries.Add(new BuiltImageSummary(
                image.Plan.Server.Name,
                image.Plan.Server.Version,
                image.Manifest.Digest,
                image.BaseLayers.Concat(image.Layers).Sum(l => l.Descriptor.Size) + image.Config.Size + image.Manifest.Size,
                image.BaseLayers.Length + image.Layers.Length,
                image.Layers.Count(l => !l.FromCache),
                manifestPath)
            {
                Platform = image.Plan.Server.IsMultiPlatform ? image.Plan.Platform.ToString() : null,
                IndexDigest = indexes.TryGetValue(image.Plan.Server.Reference, out var serverIndex) ? serverIndex.Digest : null,
            });
        }

        // Deployments are rendered from exactly this build's images, pinned by digest (a multi-platform server's index,
        // so that each node pulls its own platform), before release.json names them.
        DeploymentArtifacts.Write(
            output,
            evaluation.Deployments,
            servers.ToDictionary(
                g => g.Key,
                g => new DeployedImage(g.Key, indexes.TryGetValue(g.Key, out var index) ? index.Digest : g.First().Manifest.Digest, files[g.First()].ContentDigest),
                StringComparer.Ordinal),
            request.Deployment.Registry,
            request.Deployment.RepositoryPrefix,
            verificationKey);

        var releasePath = Path.Combine(output, Release.FileName);
        AtomicFile.WriteIfChanged(releasePath, Release.Write(release, evaluation.Deployments, indexes));

        // The index is replaced last: it names exactly this build's images, each server once (a plain manifest, or the
        // image index of a multi-platform server, whose platform manifests are reached through it and not tagged).
        // Their attestation artifacts are not listed (tools that validate every index entry as an image would refuse
        // them); they are found through their subject (OciLayout.FindReferrers) and kept from garbage collection as
        // extra roots.
        layout.WriteIndex(new ImageIndex
        {
            Manifests = [.. servers
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (indexes.TryGetValue(g.Key, out var index) ? index : g.First().Manifest) with
                {
                    Annotations = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>(AnnotationKeys.RefName, g.Key)]),
                })],
        });
        RemoveStale(output, images);
        layout.CollectGarbage(referrers);
        planner.Lock.Save(lockPath);
        return new BuildResult(summaries.ToImmutable(), [.. evaluation.Warnings, .. Builder().Warnings, .. locked.Warnings], releasePath, [.. planner.Inputs]);
    }

    /// <summary>
    /// Pushes every image of a build (its release.json and layout) to <see cref="PushRequest.Registry"/>: blobs the
    /// registry lacks, then each manifest by digest, then its tag; records the pushed references in release.json.
    /// </summary>
    public static Registry.PushResult Push(PushRequest request, Action<Oci.Registry.TransferEvent>? progress = null, CancellationToken cancellationToken = default) =>
        new Registry.ImagePusher(request, progress).Push(cancellationToken);

    /// <summary>
    /// <c>kiln verify-image</c>: the image matches its digest, its provenance verifies with the key, names this image
    /// and Kiln's builder, and agrees with kiln.lock.json. Throws a <see cref="KilnException"/> coded for the first failure.
    /// </summary>
    public static VerifyImageResult VerifyImage(VerifyImageRequest request) => ImageVerifier.Verify(request);

    /// <summary>
    /// Pulls an image pinned by digest into the shared cache (<c>CACHE/oci</c>), verifying everything, and returns the
    /// chosen platform's manifest descriptor. A cached image is still confirmed with the registry (a HEAD of its
    /// manifest) unless <paramref name="offline"/>, which answers from the cache alone. With
    /// <paramref name="verificationKey"/> (a PEM public key), the registry must also hold Kiln provenance for that
    /// manifest signed with it, else KILN2177. <paramref name="platform"/> (default linux/amd64) chooses the image out of
    /// a multi-platform index (KILN2160 when it has none); a single-platform image must be built for it (KILN2161).
    /// </summary>
    public static Oci.Descriptor Pull(string reference, string cacheDirectory, Registry.RegistrySettings settings, Action<Oci.Registry.TransferEvent>? progress = null, bool offline = false, string? verificationKey = null, Oci.Platform? platform = null) =>
        Registry.BasePuller.PullInto(reference, cacheDirectory, settings, progress, offline, verificationKey, platform);

    /// <summary>
    /// Writes one image of an OCI layout (by its ref name, e.g. <c>shop-api:1.4.0</c>) as an OCI archive or a
    /// docker-archive that <c>docker load</c>/<c>podman load</c> and <c>skopeo</c> read.
    /// </summary>
    public static void Export(string layoutPath, string reference, Registry.ArchiveFormat format, string destination, Oci.Platform? platform = null) =>
        Registry.ImageExporter.Export(layoutPath, reference, format, destination, platform);

    /// <summary>The platforms of a multi-platform image in a layout, in its index's order; empty for a plain image manifest.</summary>
    public static IReadOnlyList<Oci.Platform> ExportPlatforms(string layoutPath, string reference) =>
        Registry.ImageExporter.Platforms(layoutPath, reference);

    /// <summary>
    /// <c>kiln fsck</c>: checks an OCI image layout: every blob reachable from index.json exists, has its
    /// descriptor's size and hashes to its digest, and every index and manifest parses. Unreferenced blobs are
    /// reported as information. Reads only.
    /// </summary>
    public static LayoutCheckResult Fsck(string layoutPath)
    {
        try
        {
            return LayoutChecker.Check(layoutPath);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.LayoutUnreadable, $"'{layoutPath}' cannot be checked: {e.Message} Point kiln fsck at an OCI image layout directory (for example bin/Release/kiln/oci).");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KilnException(DiagnosticCodes.LayoutUnreadable, $"'{layoutPath}' cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// The files of one image that depend on it alone (its inventory, its Kiln manifest content and its SBOM), made
    /// before any is written: the version lock is checked between.
    /// </summary>
    private sealed record ImageFiles(byte[] Inventory, Digest InventoryDigest, Digest ContentDigest, byte[] Sbom)
    {
        public static ImageFiles Of(BuiltImage image, ProjectOptions project, BuildProvenance provenance)
        {
            var inventory = image.Inventory.ToBytes();
            var inventoryDigest = Digest.Sha256(inventory);
            var contentDigest = Digest.Sha256(KilnManifest.Content(image, inventoryDigest, project));
            return new ImageFiles(inventory, inventoryDigest, contentDigest, Manifests.Sbom.Write(image, contentDigest, project, provenance));
        }
    }

    /// <summary>Runs <paramref name="write"/>, which writes the images under <paramref name="output"/>, with its I/O failures coded.</summary>
    private static void Artifacts(string output, Action write) => Artifacts(output, () =>
    {
        write();
        return true;
    });

    /// <inheritdoc cref="Artifacts(string, Action)"/>
    private static T Artifacts<T>(string output, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (IOException e)
        {
            throw new KilnException(DiagnosticCodes.ArtifactWriteFailed, $"Writing the images under '{output}' failed: {e.Message}. Check free space and permissions; the previous artifacts are intact.");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new KilnException(DiagnosticCodes.ArtifactWriteFailed, $"Writing the images under '{output}' was refused: {e.Message}. Check permissions.");
        }
    }

    /// <summary>Writes one of the build's own OCI documents (an image index) into the layout, worded like every other write failure.</summary>
    private static Descriptor WriteArtifactBlob(OciLayout layout, string output, byte[] bytes, string mediaType) =>
        Artifacts(output, () => layout.WriteBlob(bytes, mediaType));

    /// <summary>
    /// What the lock records as a multi-platform version's content: one digest over its platforms' Kiln manifest
    /// content digests, in the spec's order, so that a change on any platform changes it.
    /// </summary>
    private static Digest CombinedContentDigest(IEnumerable<Digest> platformContentDigests) =>
        Digest.Sha256(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', platformContentDigests.Select(d => d.ToString()))));

    /// <summary>Manifests and inventories of images this build no longer produces would be mistaken for current ones.</summary>
    private static void RemoveStale(string output, ImmutableArray<BuiltImage> images)
    {
        var manifests = images.Select(KilnManifest.FileName).ToHashSet(StringComparer.Ordinal);
        var inventories = images.Select(KilnManifest.InventoryFileName).ToHashSet(StringComparer.Ordinal);
        var sboms = images.Select(KilnManifest.SbomFileName).ToHashSet(StringComparer.Ordinal);
        var attestations = images.SelectMany(i => new[] { ImageAttestations.StatementFileName(i), ImageAttestations.EnvelopeFileName(i) }).ToHashSet(StringComparer.Ordinal);
        foreach (var (directory, keep) in new[] { ("manifests", manifests), ("inventory", inventories), ("sbom", sboms), (ImageAttestations.Directory, attestations) })
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
