using System.Diagnostics;
using BenchmarkDotNet.Running;
using Kiln.Benchmarks;
using Kiln.Oci;

// `layer <dir> [level] [gzip|zstd]`: write <dir> as one layer (to nowhere: only the digests are kept) and print the
// digests and the time, for build/bench-layers.sh to compare with `tar | pigz | sha256sum` in the same run.
if (args is ["layer", var directory, ..])
{
    var compression = args.Length > 3 && args[3] == "zstd" ? LayerCompression.Zstd : LayerCompression.Gzip;
    int? level = args.Length > 2 && args[2] != "default" ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : null;
    var stopwatch = Stopwatch.StartNew();
    var result = LayerWriter.Write(TreeEntries.FromDirectory(directory), Stream.Null, new LayerWriterOptions { Compression = compression, CompressionLevel = level });
    stopwatch.Stop();
    Console.WriteLine($"diff_id {result.DiffId}");
    Console.WriteLine($"digest  {result.Digest}");
    Console.WriteLine($"files {result.Files.Length} tar {result.UncompressedSize} bytes {compression.ToString().ToLowerInvariant()} {result.Size} bytes");
    Console.WriteLine($"layer_seconds {stopwatch.Elapsed.TotalSeconds:F3}");
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(LayerWriterBenchmarks).Assembly).Run(args);
return 0;
