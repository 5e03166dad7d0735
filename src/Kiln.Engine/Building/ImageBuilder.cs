using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Engine.Manifests;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Building;

/// <summary>One image written into the layout, with everything its manifests need.</summary>
internal sealed record BuiltImage(
    ImagePlan Plan,
    Descriptor Manifest,
    Descriptor Config,
    ImmutableArray<BuiltLayer> BaseLayers,
    ImmutableArray<BuiltLayer> Layers,
    Inventory Inventory);

/// <summary>Writes the images of a set of plans into one OCI layout: bases checked first, layers in parallel, then configs and manifests.</summary>
internal sealed class ImageBuilder
{
    private readonly ProjectOptions _project;
    private readonly OciLayout _layout;
    private readonly LayerBuilder _layers;
    private readonly ConcurrentQueue<KilnDiagnostic> _warnings = new();
    private readonly Dictionary<BasePlan, (ImmutableArray<BuiltLayer> Layers, Inventory Tree)> _bases = [];
    private readonly HashSet<(BasePlan Base, bool AllowSpecialFiles)> _checked = [];
    private readonly ConcurrentDictionary<string, BuiltLayer> _built = new(StringComparer.Ordinal);
    private readonly Dictionary<ImagePlan, BuiltImage> _images = new(ReferenceEqualityComparer.Instance);

    public ImageBuilder(ProjectOptions project, OciLayout layout)
    {
        _project = project;
        _layout = layout;
        _layers = new LayerBuilder(project, layout, _warnings.Enqueue);
    }

    /// <summary>The layout the images are written into.</summary>
    public OciLayout Layout => _layout;

    /// <summary>Coded warnings of the build: caches or blobs that had to be rebuilt.</summary>
    public IReadOnlyCollection<KilnDiagnostic> Warnings => _warnings;

    /// <summary>The image time: SOURCE_DATE_EPOCH, never the clock.</summary>
    private string Created => DateTimeOffset.FromUnixTimeSeconds(_project.SourceDateEpoch).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Imports and validates the bases of <paramref name="bases"/> (each base under each server's rules once), every
    /// refusal reported together. <see cref="Build"/> does it for the bases not imported before.
    /// </summary>
    public void ImportBases(IEnumerable<(ResolvedServer Server, BasePlan Base)> bases)
    {
        var problems = new DiagnosticBag();
        foreach (var (server, basePlan) in bases)
        {
            ImportBase(server, basePlan, problems);
        }

        problems.ThrowIfErrors();
    }

    /// <summary>
    /// Builds the image of every plan. A plan built before (the same object: a build started during the publish builds
    /// the images that read nothing it writes while it waits) gives the same image, and a layer built before for an
    /// equal cache key is not built again.
    /// </summary>
    public ImmutableArray<BuiltImage> Build(IReadOnlyList<ImagePlan> plans, Action<string>? log = null)
    {
        var todo = plans.Where(p => !_images.ContainsKey(p)).ToList();

        // Every base is validated before any layer is written, and every refusal reported together.
        ImportBases(todo.Select(p => (p.Server, p.Base)));

        // Layers are independent: compress them in parallel, each distinct input set once.
        var distinct = todo.SelectMany(p => p.Layers).Where(l => !_built.ContainsKey(l.CacheKey)).DistinctBy(l => l.CacheKey).ToList();
        try
        {
            Parallel.ForEach(distinct, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, plan =>
            {
                var layer = _layers.Build(plan);
                _built[plan.CacheKey] = layer;
                log?.Invoke($"{(layer.FromCache ? "cached" : "wrote ")} {layer.Descriptor.Digest.Encoded[..12]} {Formatting.ByteSize.Format(layer.Descriptor.Size),9} {plan.Source}");
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Report what went wrong (disk full, an input deleted mid-build), not the parallel loop around it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        foreach (var plan in todo)
        {
            _images[plan] = BuildImage(plan, [.. plan.Layers.Select(l => _built[l.CacheKey] with { Source = l.Source, History = l.History })]);
        }

        return [.. plans.Select(plan => _images[plan])];
    }

    private BuiltImage BuildImage(ImagePlan plan, ImmutableArray<BuiltLayer> layers)
    {
        var (baseLayers, baseTree) = _bases[plan.Base];
        var inventory = baseTree.Clone(); // the base's layers, applied and validated once in ImportBase

        foreach (var layer in layers)
        {
            try
            {
                inventory.Apply(layer.Files);
            }
            catch (UnsafeLayerEntryException e)
            {
                throw new KilnException(
                    DiagnosticCodes.LayerWriteThroughSymlink,
                    $"Spec '{plan.Server.SpecType}': layer '{layer.Source}': {e.Message}. An unpacker would not put it where the image says; write to the link's target path instead, or change the base.",
                    plan.Server.LocationOf(nameof(ServerSpec.Layers)));
            }
        }

        var config = ImageConfigFor(plan, layers);
        var configDescriptor = _layout.WriteBlob(config.ToJson(), MediaTypes.ImageConfig);
        var annotations = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        annotations[AnnotationKeys.Created] = Created;
        annotations[AnnotationKeys.Title] = plan.Server.Name;
        annotations[AnnotationKeys.Version] = plan.Server.Version;
        if (plan.Base.Manifest is { } baseManifest)
        {
            annotations[AnnotationKeys.BaseName] = plan.Base.Name;
            annotations[AnnotationKeys.BaseDigest] = baseManifest.Digest.ToString();
        }

        var manifest = new ImageManifest
        {
            Config = configDescriptor,
            Layers = [.. baseLayers.Concat(layers).Select(l => l.Descriptor)],
            Annotations = annotations.ToImmutable(),
        };
        var manifestDescriptor = _layout.WriteBlob(manifest.ToJson(), MediaTypes.ImageManifest);
        return new BuiltImage(plan, manifestDescriptor, configDescriptor, baseLayers, layers, inventory);
    }

    /// <summary>
    /// Copies the base's layer blobs into the layout (unless already there and proven), reads their inventories
    /// (cached by digest) and validates every entry as an unpacker would apply it, layer over layer.
    /// </summary>
    private void ImportBase(ResolvedServer server, BasePlan basePlan, DiagnosticBag problems)
    {
        var allowSpecialFiles = server.Base.AllowSpecialFiles;
        if (!_checked.Add((basePlan, allowSpecialFiles)))
        {
            return; // the same base under the same rules was checked for an earlier server
        }

        if (basePlan.Source is null)
        {
            _bases[basePlan] = ([], new Inventory());
            return;
        }

        var result = ImmutableArray.CreateBuilder<BuiltLayer>();
        var tree = new Inventory();
        for (var i = 0; i < basePlan.Layers.Length; i++)
        {
            var descriptor = basePlan.Layers[i];
            ImmutableArray<LayerFileRecord> files;
            try
            {
                files = BaseInventory(basePlan, descriptor);
                tree.Apply(files, allowSpecialFiles);
            }
            catch (OciFormatException e)
            {
                problems.Error(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': base '{basePlan.Name}', layer {i + 1} ({descriptor.Digest}) cannot be read: {e.Message}", server.LocationOf(nameof(ServerSpec.Base)));
                return;
            }
            catch (UnsafeLayerEntryException e)
            {
                var (code, fix) = e.Kind switch
                {
                    UnsafeEntryKind.EscapesRoot => (DiagnosticCodes.BaseEntryEscapesRoot, "The base is hostile or broken: rebuild it from a trusted source."),
                    UnsafeEntryKind.HardLink => (DiagnosticCodes.BaseHardLinkInvalid, "The base is hostile or broken: rebuild it from a trusted source."),
                    UnsafeEntryKind.ThroughSymlink => (DiagnosticCodes.BaseWriteThroughSymlink, "Unpackers would write the entry elsewhere than the image says: rebuild the base without writing through the link."),
                    _ => (DiagnosticCodes.BaseSpecialFile, "Remove the device node or FIFO from the base, or, if you trust the base and need it, opt in with `with { AllowSpecialFiles = true }` on the BaseImage."),
                };
                problems.Error(code, $"Spec '{server.SpecType}': base '{basePlan.Name}', layer {i + 1} ({descriptor.Digest}): {e.Message}. {fix}", server.LocationOf(nameof(ServerSpec.Base)));
                return;
            }

            result.Add(new BuiltLayer(descriptor, basePlan.Config!.DiffIds[i], files, $"base:{basePlan.Name}", FromCache: true));
        }

        // A base checked again under stricter rules (another server without special files) keeps its first tree: the
        // entries are the same.
        _bases.TryAdd(basePlan, (result.ToImmutable(), tree));
    }

    /// <summary>The entries of one base layer, from a sealed cache when the layout's blob is proven unchanged; the
    /// blob is copied from the base (digest checked) when missing or corrupt.</summary>
    private ImmutableArray<LayerFileRecord> BaseInventory(BasePlan basePlan, Descriptor layer)
    {
        var cache = Path.Combine(_project.IntermediateDirectory, "base-layers", layer.Digest.Encoded + ".json");
        var state = SealedFile.Read(cache, EngineJson.Default.BaseLayerEntry, out var entry);
        if (state == SealState.Damaged)
        {
            _warnings.Enqueue(new KilnDiagnostic(DiagnosticCodes.CacheEntryRebuilt, $"The base layer cache entry '{cache}' does not match its seal (changed after Kiln wrote it); it is rebuilt from the blob. Nothing to do unless this repeats (then check the disk).", IsWarning: true));
            entry = null;
        }

        var stamp = BlobProof.Prove(_layout, layer, entry?.Stamp, out var corrupt);
        if (corrupt)
        {
            _warnings.Enqueue(new KilnDiagnostic(DiagnosticCodes.CorruptBlobReplaced, $"Base layer blob {layer.Digest} of '{basePlan.Name}' in '{_layout.Root}' does not match its digest; it is copied again from the base. Nothing to do unless this repeats (then check the disk).", IsWarning: true));
        }

        if (stamp is null)
        {
            using var source = basePlan.Source!.OpenBlob(layer.Digest);
            var copied = _layout.WriteBlob(source, layer.MediaType);
            if (copied.Digest != layer.Digest)
            {
                throw new KilnException(DiagnosticCodes.InvalidBaseImage, $"Base layer {layer.Digest} in '{basePlan.Name}' does not match its digest (read {copied.Digest}). The base is corrupt: fetch or rebuild it again.");
            }

            stamp = _layout.StampOf(layer.Digest);
        }

        if (entry is null)
        {
            using var blob = _layout.OpenBlob(layer.Digest);
            entry = new BaseLayerEntry(stamp?.ToString(), [.. LayerReader.ReadFiles(blob, layer.MediaType)]);
        }
        else if (entry.Stamp == stamp?.ToString() && state == SealState.Valid)
        {
            return [.. entry.Files];
        }

        SealedFile.Write(cache, entry with { Stamp = stamp?.ToString() }, EngineJson.Default.BaseLayerEntry);
        return [.. entry.Files];
    }

    /// <param name="Stamp">The layout blob's <see cref="BlobStamp"/> when it was written or last hashed.</param>
    internal sealed record BaseLayerEntry(string? Stamp, LayerFileRecord[] Files);

    private ImageConfig ImageConfigFor(ImagePlan plan, ImmutableArray<BuiltLayer> layers)
    {
        var server = plan.Server;
        var baseConfig = plan.Base.Config;
        var inherited = baseConfig?.Config ?? new ContainerConfig();

        var environment = inherited.Env.ToList();
        foreach (var variable in server.Environment)
        {
            environment.RemoveAll(e => e.StartsWith(variable.Name + "=", StringComparison.Ordinal));
            environment.Add($"{variable.Name}={variable.Value}");
        }

        var labels = inherited.Labels.ToBuilder();
        labels["org.opencontainers.image.title"] = server.Name;
        labels["org.opencontainers.image.version"] = server.Version;
        foreach (var (key, value) in KilnLabels(server))
        {
            labels[key] = value;
        }

        foreach (var label in server.Labels)
        {
            labels[label.Key] = label.Value;
        }

        var entrypoint = server.Entrypoint?.ToArgv() ?? inherited.Entrypoint;
        var cmd = server.Entrypoint is not null || !server.Arguments.IsEmpty ? server.Arguments : inherited.Cmd;
        var history = (baseConfig?.History ?? []).ToList();
        history.AddRange(layers.Select(l => new HistoryEntry { Created = Created, CreatedBy = $"kiln: {l.History ?? l.Source}", Comment = "kiln" }));

        return new ImageConfig
        {
            // The platform the spec builds this image for, not the base's word for it: a base source hands each
            // platform its own base, and the config must say what the layers Kiln added were built for.
            Architecture = plan.Platform.Architecture,
            Os = plan.Platform.Os,
            Created = Created,
            Config = new ContainerConfig
            {
                User = $"{server.Account.Uid}:{server.Account.Gid}",
                Env = [.. environment],
                Entrypoint = entrypoint,
                Cmd = cmd,
                WorkingDir = server.WorkingDirectory,
                ExposedPorts = inherited.ExposedPorts.Union(server.Ports.Select(p => p.ToString())),
                Labels = labels.ToImmutable(),
                Volumes = inherited.Volumes.Union(server.Volumes),
                StopSignal = inherited.StopSignal,
            },
            DiffIds = [.. (baseConfig?.DiffIds ?? []).Concat(layers.Select(l => l.DiffId))],
            History = [.. history],
        };
    }

    /// <summary>Settings an image config has no field for, kept as labels so that any tool reading the image sees them.</summary>
    internal static IEnumerable<(string Key, string Value)> KilnLabels(ResolvedServer server)
    {
        if (server.Limits.OpenFiles is { } openFiles)
        {
            yield return ("dev.kiln.limits.nofile", openFiles.ToString(CultureInfo.InvariantCulture));
        }

        if (server.Limits.Processes is { } processes)
        {
            yield return ("dev.kiln.limits.nproc", processes.ToString(CultureInfo.InvariantCulture));
        }

        if (server.Health is { } health)
        {
            yield return ("dev.kiln.health", HealthText(health));
        }
    }

    internal static string HealthText(HealthCheck health) => health switch
    {
        HttpHealthCheck http => $"http :{http.Port}{http.Path}",
        CommandHealthCheck command => $"exec {string.Join(' ', command.Argv)}",
        _ => health.GetType().Name,
    };
}
