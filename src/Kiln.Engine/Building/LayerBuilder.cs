using System.Collections.Immutable;
using System.Text.Json;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;

namespace Kiln.Engine.Building;

/// <summary>A layer of the image being built, with the inventory of what it holds.</summary>
internal sealed record BuiltLayer(Descriptor Descriptor, Digest DiffId, ImmutableArray<LayerFileRecord> Files, string Source, bool FromCache)
{
    /// <summary>What the image history says the layer holds; <see langword="null"/> names its <see cref="Source"/>.</summary>
    public string? History { get; init; }
}

/// <summary>
/// Writes planned layers into the layout, or takes them from the layer cache: a layer whose cache key (its inputs'
/// identity) is unchanged is neither re-tarred nor re-compressed, but only when the cache entry matches its seal and
/// the blob is proven (unchanged since written, or hashed again). Anything else is rebuilt, with a warning.
/// </summary>
internal sealed class LayerBuilder(ProjectOptions project, OciLayout layout, Action<KilnDiagnostic>? warn = null)
{
    /// <summary>The fixed gzip level; changing it changes every gzip layer digest.</summary>
    public const int CompressionLevel = 6;

    /// <summary>The fixed zstd level; changing it changes every zstd layer digest.</summary>
    public const int ZstdCompressionLevel = 3;

    /// <summary>Names the gzip compressor in manifests: the compressed digest depends on it, the diff_id does not.</summary>
    public const string Compressor = "gzip (.NET zlib-ng, level 6, 1 MiB blocks)";

    /// <summary>Names the zstd compressor in manifests (KilnLayerCompression=zstd), with the pinned ZstdSharp version
    /// the compressed digest depends on.</summary>
    public static readonly string ZstdCompressor = $"zstd ({LayerCompression.Zstd.Encoder()}, level 3, 1 MiB frames)";

    private readonly string _cacheDirectory = Path.Combine(project.IntermediateDirectory, "layers");

    /// <summary>
    /// The writer settings that enter every cache key: the compressor, and what its bytes depend on beyond it (the
    /// runtime's zlib-ng, or the ZstdSharp build), so that a cached blob is only reused where it would be written again.
    /// </summary>
    public static string Describe(ProjectOptions project) =>
        $"{CompressorOf(project.LayerCompression)}; {project.LayerCompression.Encoder()}; mtime={project.SourceDateEpoch}";

    /// <summary>The manifest's name for a compression.</summary>
    public static string CompressorOf(LayerCompression compression) => compression == LayerCompression.Zstd ? ZstdCompressor : Compressor;

    /// <summary>The manifest's name for the compressor of a layer Kiln wrote, from its media type.</summary>
    public static string CompressorOf(string mediaType) => CompressorOf(mediaType == MediaTypes.LayerTarZstd ? LayerCompression.Zstd : LayerCompression.Gzip);

    /// <summary>The writer options every layer of <paramref name="project"/> is written with.</summary>
    public static LayerWriterOptions WriterOptions(ProjectOptions project) => new()
    {
        Timestamp = DateTimeOffset.FromUnixTimeSeconds(project.SourceDateEpoch),
        Compression = project.LayerCompression,
        CompressionLevel = project.LayerCompression == LayerCompression.Zstd ? ZstdCompressionLevel : CompressionLevel,
    };

    public BuiltLayer Build(LayerPlan plan)
    {
        var cacheFile = Path.Combine(_cacheDirectory, plan.CacheKey + ".json");
        if (TryReuse(cacheFile, plan) is { } reused)
        {
            return reused;
        }

        LayerResult result;
        using (var blob = layout.BeginBlob())
        {
            result = LayerWriter.Write(plan.Entries.Select(e => e.ToLayerEntry()), blob.Stream, WriterOptions(project));
            blob.Complete();
        }

        var built = new BuiltLayer(result.ToDescriptor(), result.DiffId, result.Files, plan.Source, FromCache: false);
        WriteCache(cacheFile, built, layout.StampOf(result.Digest));
        return built;
    }

    private BuiltLayer? TryReuse(string cacheFile, LayerPlan plan)
    {
        var state = SealedFile.Read(cacheFile, EngineJson.Default.CacheEntry, out var entry);
        if (state == SealState.Damaged)
        {
            warn?.Invoke(new KilnDiagnostic(DiagnosticCodes.CacheEntryRebuilt, $"The layer cache entry '{cacheFile}' for '{plan.Source}' does not match its seal (changed after Kiln wrote it); the layer is rebuilt. Nothing to do unless this repeats (then check the disk).", IsWarning: true));
            return null;
        }

        if (state != SealState.Valid || entry is null || !Digest.TryParse(entry.Digest, out var digest) || !Digest.TryParse(entry.DiffId, out var diffId))
        {
            return null;
        }

        // The cache key names the compression, so the entry's blob is compressed the way this build asks.
        var descriptor = new Descriptor(project.LayerCompression.MediaType(), digest, entry.Size);
        var stamp = BlobProof.Prove(layout, descriptor, entry.Stamp, out var corrupt);
        if (corrupt)
        {
            warn?.Invoke(new KilnDiagnostic(DiagnosticCodes.CorruptBlobReplaced, $"Layer blob {digest} of '{plan.Source}' in '{layout.Root}' does not match its digest (changed after Kiln wrote it); it is written again. Nothing to do unless this repeats (then check the disk).", IsWarning: true));
        }

        if (stamp is null)
        {
            return null;
        }

        var layer = new BuiltLayer(descriptor, diffId, [.. entry.Files], plan.Source, FromCache: true);
        if (stamp.Value.ToString() != entry.Stamp)
        {
            WriteCache(cacheFile, layer, stamp); // re-hashed: remember the proof so that the next build need not
        }

        return layer;
    }

    private static void WriteCache(string path, BuiltLayer layer, BlobStamp? stamp) =>
        SealedFile.Write(path, new CacheEntry(layer.Descriptor.Digest.ToString(), layer.DiffId.ToString(), layer.Descriptor.Size, stamp?.ToString(), [.. layer.Files]), EngineJson.Default.CacheEntry);

    /// <param name="Stamp">The blob file's <see cref="BlobStamp"/> when it was written or last hashed.</param>
    internal sealed record CacheEntry(string Digest, string DiffId, long Size, string? Stamp, LayerFileRecord[] Files);
}
