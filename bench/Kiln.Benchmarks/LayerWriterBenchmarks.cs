using BenchmarkDotNet.Attributes;
using Kiln.Oci;

namespace Kiln.Benchmarks;

/// <summary>LayerWriter over a generated mixed tree (~40 MB), written to Stream.Null (the digests are computed either way).</summary>
[MemoryDiagnoser]
public class LayerWriterBenchmarks
{
    private string _root = "";
    private List<LayerEntry> _entries = [];

    [Params(1, 6)]
    public int CompressionLevel { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "kiln-bench-tree-" + Environment.ProcessId);
        TreeEntries.Generate(_root, scaleMegabytes: 16);
        _entries = [.. TreeEntries.FromDirectory(_root)];
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark]
    public Digest WriteLayer() =>
        LayerWriter.Write(_entries, Stream.Null, new LayerWriterOptions { CompressionLevel = CompressionLevel }).Digest;
}
