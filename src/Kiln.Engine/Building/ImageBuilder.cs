using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
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

/// <summary>Writes the images of a set of plans into one OCI layout: layers in parallel, then configs and manifests.</summary>
internal sealed class ImageBuilder(BuildRequest request, OciLayout layout)
{
    private readonly LayerBuilder _layers = new(request, layout);

    /// <summary>The image time: SOURCE_DATE_EPOCH, never the clock.</summary>
    private string Created => DateTimeOffset.FromUnixTimeSeconds(request.SourceDateEpoch).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public ImmutableArray<BuiltImage> Build(ImmutableArray<ImagePlan> plans, Action<string>? log = null)
    {
        // Layers are independent: compress them in parallel, each distinct input set once.
        var distinct = plans.SelectMany(p => p.Layers).DistinctBy(l => l.CacheKey).ToList();
        var built = new ConcurrentDictionary<string, BuiltLayer>(StringComparer.Ordinal);
        try
        {
            Parallel.ForEach(distinct, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, plan =>
            {
                var layer = _layers.Build(plan);
                built[plan.CacheKey] = layer;
                log?.Invoke($"{(layer.FromCache ? "cached" : "wrote ")} {layer.Descriptor.Digest.Encoded[..12]} {Formatting.ByteSize.Format(layer.Descriptor.Size),9} {plan.Source}");
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Report what went wrong (disk full, an input deleted mid-build), not the parallel loop around it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        return [.. plans.Select(plan => BuildImage(plan, [.. plan.Layers.Select(l => built[l.CacheKey] with { Source = l.Source })]))];
    }

    private BuiltImage BuildImage(ImagePlan plan, ImmutableArray<BuiltLayer> layers)
    {
        var baseLayers = ImportBase(plan.Base);
        var inventory = new Inventory();
        foreach (var layer in baseLayers.Concat(layers))
        {
            inventory.Apply(layer.Files);
        }

        var config = ImageConfigFor(plan, layers);
        var configDescriptor = layout.WriteBlob(config.ToJson(), MediaTypes.ImageConfig);
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
        var manifestDescriptor = layout.WriteBlob(manifest.ToJson(), MediaTypes.ImageManifest);
        return new BuiltImage(plan, manifestDescriptor, configDescriptor, baseLayers, layers, inventory);
    }

    /// <summary>Copies the base's layer blobs into the layout (once) and reads their inventories (cached by digest).</summary>
    private ImmutableArray<BuiltLayer> ImportBase(BasePlan basePlan)
    {
        if (basePlan.Source is null)
        {
            return [];
        }

        var result = ImmutableArray.CreateBuilder<BuiltLayer>();
        for (var i = 0; i < basePlan.Layers.Length; i++)
        {
            var descriptor = basePlan.Layers[i];
            if (!layout.Contains(descriptor.Digest))
            {
                using var source = basePlan.Source.OpenBlob(descriptor.Digest);
                var copied = layout.WriteBlob(source, descriptor.MediaType);
                if (copied.Digest != descriptor.Digest)
                {
                    throw new OciFormatException($"Base layer {descriptor.Digest} in '{basePlan.Name}' does not match its digest (read {copied.Digest}).");
                }
            }

            result.Add(new BuiltLayer(descriptor, basePlan.Config!.DiffIds[i], BaseInventory(descriptor), $"base:{basePlan.Name}", FromCache: true));
        }

        return result.ToImmutable();
    }

    private ImmutableArray<LayerFileRecord> BaseInventory(Descriptor layer)
    {
        var cache = Path.Combine(request.IntermediateDirectory, "base-layers", layer.Digest.Encoded + ".json");
        if (File.Exists(cache))
        {
            try
            {
                return [.. JsonSerializer.Deserialize<LayerFileRecord[]>(File.ReadAllBytes(cache))!];
            }
            catch (JsonException)
            {
                // rebuilt below
            }
        }

        using var blob = layout.OpenBlob(layer.Digest);
        ImmutableArray<LayerFileRecord> files = [.. LayerReader.ReadFiles(blob, layer.MediaType)];
        AtomicFile.Write(cache, JsonSerializer.SerializeToUtf8Bytes(files.ToArray()));
        return files;
    }

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
        history.AddRange(layers.Select(l => new HistoryEntry { Created = Created, CreatedBy = $"kiln: {l.Source}", Comment = "kiln" }));

        return new ImageConfig
        {
            Architecture = baseConfig?.Architecture ?? "amd64",
            Os = baseConfig?.Os ?? "linux",
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
