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
internal sealed class LayerBuilder(BuildRequest request, OciLayout layout, Action<KilnDiagnostic>? warn = null)
{
    /// <summary>The fixed compression level; changing it changes every layer digest.</summary>
    public const int CompressionLevel = 6;

    /// <summary>Names the compressor in manifests: the compressed digest depends on it, the diff_id does not.</summary>
    public const string Compressor = "gzip (.NET zlib, level 6)";

    private readonly string _cacheDirectory = Path.Combine(request.IntermediateDirectory, "layers");

    /// <summary>The writer settings that enter every cache key.</summary>
    public static string Describe(BuildRequest request) => $"{Compressor}; mtime={request.SourceDateEpoch}";

    public BuiltLayer Build(LayerPlan plan)
    {
        var cacheFile = Path.Combine(_cacheDirectory, plan.CacheKey + ".json");
        if (TryReuse(cacheFile, plan) is { } reused)
        {
            return reused;
        }

        var options = new LayerWriterOptions
        {
            Timestamp = DateTimeOffset.FromUnixTimeSeconds(request.SourceDateEpoch),
            CompressionLevel = CompressionLevel,
        };
        LayerResult result;
        using (var blob = layout.BeginBlob())
        {
            result = LayerWriter.Write(plan.Entries.Select(e => e.ToLayerEntry()), blob.Stream, options);
            blob.Complete();
        }

        var built = new BuiltLayer(new Descriptor(MediaTypes.LayerTarGzip, result.Digest, result.Size), result.DiffId, result.Files, plan.Source, FromCache: false);
        WriteCache(cacheFile, built, layout.StampOf(result.Digest));
        return built;
    }

    private BuiltLayer? TryReuse(string cacheFile, LayerPlan plan)
    {
        var state = SealedFile.Read<CacheEntry>(cacheFile, out var entry);
        if (state == SealState.Damaged)
        {
            warn?.Invoke(new KilnDiagnostic(DiagnosticCodes.CacheEntryRebuilt, $"The layer cache entry '{cacheFile}' for '{plan.Source}' does not match its seal (changed after Kiln wrote it); the layer is rebuilt. Nothing to do unless this repeats (then check the disk).", IsWarning: true));
            return null;
        }

        if (state != SealState.Valid || entry is null || !Digest.TryParse(entry.Digest, out var digest) || !Digest.TryParse(entry.DiffId, out var diffId))
        {
            return null;
        }

        var descriptor = new Descriptor(MediaTypes.LayerTarGzip, digest, entry.Size);
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
        SealedFile.Write(path, new CacheEntry(layer.Descriptor.Digest.ToString(), layer.DiffId.ToString(), layer.Descriptor.Size, stamp?.ToString(), [.. layer.Files]));

    /// <param name="Stamp">The blob file's <see cref="BlobStamp"/> when it was written or last hashed.</param>
    private sealed record CacheEntry(string Digest, string DiffId, long Size, string? Stamp, LayerFileRecord[] Files);
}
