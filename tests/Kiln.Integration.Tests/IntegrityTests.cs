using System.Text.Json;
using System.Text.RegularExpressions;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// Every reused byte is proven: a corrupted blob in the output layout and a tampered layer cache entry are noticed
/// on the next build and rebuilt; <c>kiln fsck</c> reports corruption; inventories match what umoci unpacks.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed partial class IntegrityTests(KilnPackage package)
{
    [SkippableFact]
    public void Build_CorruptAppLayerBlob_FsckReportsItAndTheNextBuildRewritesIt()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var layer = AppLayer(fixture);
        var blob = Path.Combine(fixture.LayoutDirectory, "blobs", "sha256", layer[7..]);
        FlipFourBytes(blob);

        var fsck = KilnCli.Run(package, fixture.Directory, "fsck", fixture.LayoutDirectory, "--json");
        Assert.True(fsck.ExitCode == 1, fsck.ToString());
        using (var report = JsonDocument.Parse(fsck.Output[fsck.Output.IndexOf('{', StringComparison.Ordinal)..]))
        {
            var bad = report.RootElement.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("severity").GetString() == "error").ToList();
            var finding = Assert.Single(bad);
            Assert.Equal((layer, "wrongDigest"), (finding.GetProperty("digest").GetString(), finding.GetProperty("problem").GetString()));
        }

        ForceImageStep(fixture);
        var rebuild = fixture.BuildOk();

        Assert.Contains("warning KILN3040", rebuild.Output, StringComparison.Ordinal);
        Assert.Equal(layer, AppLayer(fixture)); // same inputs, same digest: the bytes were written again
        var after = KilnCli.Run(package, fixture.Directory, "fsck", fixture.LayoutDirectory);
        Assert.True(after.ExitCode == 0, after.ToString());
        ValidateWithOciImageTool(fixture);

        var notALayout = KilnCli.Run(package, fixture.Directory, "fsck", fixture.Directory);
        Assert.True(notALayout.ExitCode == 16, notALayout.ToString());
        Assert.Contains("error KILN3043", notALayout.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Build_TamperedLayerCacheEntry_IsRebuiltAndTheInventoryIsRight()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var inventoryPath = Path.Combine(fixture.OutputDirectory, "inventory", "fixture-api-1.2.3.txt");
        var inventory = File.ReadAllText(inventoryPath);
        var entry = Directory.EnumerateFiles(Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "layers"), "*.json")
            .Single(f => File.ReadAllText(f).Contains("/srv/www/index.html", StringComparison.Ordinal));

        // Still valid JSON, still a plausible hash: only the seal can tell.
        var text = File.ReadAllText(entry);
        var hash = Sha256Hex().Match(text[text.IndexOf("/srv/www/index.html", StringComparison.Ordinal)..]).Value;
        File.WriteAllText(entry, text.Replace(hash, new string('0', 64), StringComparison.Ordinal));
        ForceImageStep(fixture);

        var rebuild = fixture.BuildOk();

        Assert.Contains("warning KILN3041", rebuild.Output, StringComparison.Ordinal);
        Assert.Equal(inventory, File.ReadAllText(inventoryPath));
        Assert.Contains(hash, inventory, StringComparison.Ordinal);
        UnpackedInventory.AssertMatchesUmoci(fixture.LayoutDirectory, "fixture-api:1.2.3", inventoryPath);
    }

    [SkippableFact]
    public void Build_ImagesOnScratchAndOnALayoutBase_InventoriesMatchWhatUmociUnpacks()
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.Specs(BuildTests.TwoServers + """

            public sealed class OnBusybox : ServerSpec
            {
                public override string Name => "on-busybox";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.OciLayout("base", "busybox:static");
                public override ImmutableArray<Layer> Layers => [Layer.File("files/app.sh", to: "/app/run.sh"), Layer.Directory("www", to: "/srv/www")];
                public override Entrypoint Entrypoint => new("/app/run.sh");
            }
            """);
        BusyboxLayout.Create(Path.Combine(fixture.Directory, "base"), busybox);

        fixture.BuildOk();

        foreach (var image in new[] { "fixture-api-1.2.3", "fixture-worker-0.9.0", "on-busybox-1.0.0" })
        {
            var reference = image[..image.LastIndexOf('-')] + ":" + image[(image.LastIndexOf('-') + 1)..];
            UnpackedInventory.AssertMatchesUmoci(fixture.LayoutDirectory, reference, Path.Combine(fixture.OutputDirectory, "inventory", image + ".txt"));
        }
    }

    /// <summary>The last layer of fixture-api: one of its own (not a base layer).</summary>
    private static string AppLayer(FixtureProject fixture)
    {
        var digest = fixture.ReadRelease().Digests["fixture-api:1.2.3"];
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(fixture.LayoutDirectory, "blobs", "sha256", digest[7..])));
        return manifest.RootElement.GetProperty("layers").EnumerateArray().Last().GetProperty("digest").GetString()!;
    }

    /// <summary>The MSBuild target is incremental on its inputs; its stamp going away makes the engine run again.</summary>
    private static void ForceImageStep(FixtureProject fixture) =>
        File.Delete(Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "images.stamp"));

    private static void FlipFourBytes(string path)
    {
        var bytes = File.ReadAllBytes(path);
        for (var i = bytes.Length / 2; i < (bytes.Length / 2) + 4; i++)
        {
            bytes[i] ^= 0x5A;
        }

        File.WriteAllBytes(path, bytes);
    }

    private static void ValidateWithOciImageTool(FixtureProject fixture)
    {
        var validator = Tools.Require("oci-image-tool", "oci-image-tool");
        var validate = ProcessRunner.Run(validator, ["validate", "--type", "image", fixture.LayoutDirectory]);
        Assert.True(validate.ExitCode == 0, validate.Output);
    }

    [GeneratedRegex("[0-9a-f]{64}")]
    private static partial Regex Sha256Hex();
}
