namespace Kiln.Oci;

/// <summary>How <see cref="LayerWriter"/> compresses a layer's tar stream. The diff_id never depends on it; the
/// compressed digest does.</summary>
public enum LayerCompression
{
    /// <summary><c>tar+gzip</c>: the .NET runtime's bundled zlib-ng, independent blocks behind a fixed header.</summary>
    Gzip,

    /// <summary><c>tar+zstd</c>: ZstdSharp (the version Kiln pins), one frame per block.</summary>
    Zstd,
}

/// <summary>Facts about each <see cref="LayerCompression"/>.</summary>
public static class LayerCompressions
{
    /// <summary>The OCI media type of a layer compressed this way.</summary>
    public static string MediaType(this LayerCompression compression) => compression switch
    {
        LayerCompression.Gzip => MediaTypes.LayerTarGzip,
        LayerCompression.Zstd => MediaTypes.LayerTarZstd,
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "Unknown layer compression."),
    };

    /// <summary>The level used when <see cref="LayerWriterOptions.CompressionLevel"/> is not given: gzip 6 (gzip's
    /// and pigz's default), zstd 3 (zstd's default).</summary>
    public static int DefaultLevel(this LayerCompression compression) => compression switch
    {
        LayerCompression.Gzip => 6,
        LayerCompression.Zstd => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "Unknown layer compression."),
    };

    /// <summary>
    /// What the compressed bytes depend on besides the tar, level and <see cref="LayerWriter.BlockSize"/>: the runtime
    /// whose bundled zlib-ng deflates gzip layers, or the ZstdSharp version that encodes zstd layers. Part of a layer
    /// cache key, so that a cached blob is never reused by a build that would compress it differently.
    /// </summary>
    public static string Encoder(this LayerCompression compression) => compression switch
    {
        LayerCompression.Gzip => $"zlib-ng of {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}",
        LayerCompression.Zstd => $"ZstdSharp {typeof(ZstdSharp.Compressor).Assembly.GetName().Version}",
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "Unknown layer compression."),
    };

    /// <summary>Parses the MSBuild/CLI spelling (<c>gzip</c> or <c>zstd</c>, any case).</summary>
    public static bool TryParse(string? text, out LayerCompression compression)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "gzip":
                compression = LayerCompression.Gzip;
                return true;
            case "zstd":
                compression = LayerCompression.Zstd;
                return true;
            default:
                compression = default;
                return false;
        }
    }
}
