using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Kiln.Oci;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// KilnLayerCompression end to end: a fixture built with zstd layers (one of them several blocks long), read by
/// skopeo and unpacked by umoci (after skopeo, which reads zstd, recompressed it; see UnpackedInventory); switching
/// the compression keeps every diff_id and changes every layer digest.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class LayerCompressionTests(KilnPackage package)
{
    private static FixtureProject ZstdFixture(KilnPackage package)
    {
        // Three blocks of content that compresses (and one that does not), so that the layer is written in parallel.
        var random = new Random(11);
        var noise = new byte[1_500_000];
        random.NextBytes(noise);
        var text = string.Concat(Enumerable.Range(0, 120_000).Select(i => $"line {i} of {random.Next(1000)}\n"));
        return BuildTests.TwoServerFixture(package)
            .WriteBytes("www/media/noise.bin", noise)
            .Write("www/logs/big.txt", text);
    }

    private static List<(string MediaType, string Digest)> Layers(FixtureProject fixture, string reference)
    {
        var layout = OciLayout.Open(fixture.LayoutDirectory);
        var (_, manifest) = layout.ResolveManifest(layout.ReadIndex().Manifests.First(m => m.RefName == reference));
        return [.. manifest.Layers.Select(l => (l.MediaType, l.Digest.ToString()))];
    }

    private static List<string> DiffIds(FixtureProject fixture, string reference)
    {
        var layout = OciLayout.Open(fixture.LayoutDirectory);
        var (_, manifest) = layout.ResolveManifest(layout.ReadIndex().Manifests.First(m => m.RefName == reference));
        return [.. layout.ReadConfig(manifest.Config.Digest).DiffIds.Select(d => d.ToString())];
    }

    [SkippableFact]
    public void Build_LayerCompressionZstd_ZstdLayersThatSkopeoReadsAndUmociUnpacks()
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        var fixture = ZstdFixture(package);

        // BuildOk unpacks every image and compares it with its inventory, entry by entry.
        fixture.BuildOk("-p:KilnLayerCompression=zstd");

        var layers = Layers(fixture, "fixture-api:1.2.3");
        Assert.Equal(3, layers.Count);
        Assert.All(layers, l => Assert.Equal(MediaTypes.LayerTarZstd, l.MediaType));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "fixture-api-1.2.3.json")));
        Assert.All(manifest.RootElement.GetProperty("content").GetProperty("layers").EnumerateArray(), l =>
        {
            Assert.Equal(MediaTypes.LayerTarZstd, l.GetProperty("mediaType").GetString());
            Assert.StartsWith("zstd (ZstdSharp ", l.GetProperty("compression").GetString(), StringComparison.Ordinal);
        });

        var plain = Path.Combine(fixture.Directory, "plain");
        var copy = ProcessRunner.Run(skopeo, ["copy", "--dest-decompress", $"oci:{fixture.LayoutDirectory}:fixture-api:1.2.3", $"dir:{plain}"]);
        Assert.True(copy.ExitCode == 0, copy.Output);
        foreach (var diffId in DiffIds(fixture, "fixture-api:1.2.3"))
        {
            // skopeo names each decompressed layer by its digest: the tar Kiln hashed as the diff_id.
            Assert.True(File.Exists(Path.Combine(plain, diffId["sha256:".Length..])), $"skopeo produced no layer {diffId}");
        }
    }

    [SkippableFact]
    public void Build_SwitchLayerCompression_SameDiffIdsOtherDigestsAndBack()
    {
        var fixture = ZstdFixture(package);
        fixture.BuildOk();
        var gzipLayers = Layers(fixture, "fixture-api:1.2.3");
        var gzipDiffIds = DiffIds(fixture, "fixture-api:1.2.3");
        Assert.All(gzipLayers, l => Assert.Equal(MediaTypes.LayerTarGzip, l.MediaType));

        fixture.BuildOk("-p:KilnLayerCompression=zstd");
        var zstdLayers = Layers(fixture, "fixture-api:1.2.3");

        // The cache key names the compression: every layer was written again, no gzip blob reused under the zstd type.
        Assert.Equal(gzipDiffIds, DiffIds(fixture, "fixture-api:1.2.3"));
        Assert.All(zstdLayers, l => Assert.Equal(MediaTypes.LayerTarZstd, l.MediaType));
        Assert.Empty(zstdLayers.Select(l => l.Digest).Intersect(gzipLayers.Select(l => l.Digest)));

        fixture.BuildOk("-p:KilnLayerCompression=GZIP");
        Assert.Equal(gzipLayers, Layers(fixture, "fixture-api:1.2.3"));
    }

    [Fact]
    public void Build_UnknownLayerCompression_FailsWithKiln2180()
    {
        var fixture = BuildTests.TwoServerFixture(package);

        var result = fixture.Build("-p:KilnLayerCompression=brotli");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("error KILN2180", result.Output, StringComparison.Ordinal);
        Assert.Contains("'brotli'", result.Output, StringComparison.Ordinal);
        fixture.AssertNoArtifacts("an unknown compression is refused before anything is written");
    }
}
