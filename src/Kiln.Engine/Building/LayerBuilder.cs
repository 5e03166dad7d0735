using System.Collections.Immutable;
using System.Text.Json;
using Kiln.Engine.IO;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;

namespace Kiln.Engine.Building;

/// <summary>A layer of the image being built, with the inventory of what it holds.</summary>
internal sealed record BuiltLayer(Descriptor Descriptor, Digest DiffId, ImmutableArray<LayerFileRecord> Files, string Source, bool FromCache);

/// <summary>
/// Writes planned layers into the layout, or takes them from the layer cache: a layer whose cache key (its inputs'
/// identity) is unchanged and whose blob is still in the layout is neither re-tarred nor re-compressed.
/// </summary>
internal sealed class LayerBuilder(BuildRequest request, OciLayout layout)
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
        if (TryReadCache(cacheFile) is { } cached && layout.Contains(cached.Descriptor.Digest))
        {
            return cached with { Source = plan.Source };
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
        WriteCache(cacheFile, built);
        return built;
    }

    private static BuiltLayer? TryReadCache(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var entry = JsonSerializer.Deserialize<CacheEntry>(File.ReadAllBytes(path));
            return entry is null
                ? null
                : new BuiltLayer(new Descriptor(MediaTypes.LayerTarGzip, Digest.Parse(entry.Digest), entry.Size), Digest.Parse(entry.DiffId), [.. entry.Files], "", FromCache: true);
        }
        catch (Exception e) when (e is JsonException or OciFormatException or IOException)
        {
            return null; // a damaged cache entry only costs a rebuild
        }
    }

    private static void WriteCache(string path, BuiltLayer layer)
    {
        var entry = new CacheEntry(layer.Descriptor.Digest.ToString(), layer.DiffId.ToString(), layer.Descriptor.Size, [.. layer.Files]);
        AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(entry));
    }

    private sealed record CacheEntry(string Digest, string DiffId, long Size, LayerFileRecord[] Files);
}
