using Kiln.Tests.Registry;

namespace Kiln.Oci.Tests;

public class PlatformSelectionTests
{
    private static readonly Digest A = Digest.Sha256("a"u8);
    private static readonly Digest B = Digest.Sha256("b"u8);
    private static readonly Digest C = Digest.Sha256("c"u8);

    private static ImageIndex Index(params (Digest Digest, Platform? Platform)[] entries) =>
        new() { Manifests = [.. entries.Select(e => new Descriptor(MediaTypes.ImageManifest, e.Digest, 100) { Platform = e.Platform })] };

    [Fact]
    public void Select_Arm64WantedAndIndexSaysArm64V8_ChoosesIt()
    {
        var index = Index((A, new("amd64", "linux")), (B, new("arm64", "linux") { Variant = "v8" }));

        Assert.Equal(B, PlatformSelection.Select(index, new("arm64", "linux"))!.Digest);
        Assert.Equal(B, PlatformSelection.Select(index, new("arm64", "linux") { Variant = "v8" })!.Digest);
        Assert.Equal(A, PlatformSelection.Select(index, PlatformSelection.LinuxAmd64)!.Digest);
    }

    [Fact]
    public void Select_Arm64V8WantedAndIndexSaysPlainArm64_ChoosesIt()
    {
        var index = Index((A, new("arm64", "linux")));

        Assert.Equal(A, PlatformSelection.Select(index, new("arm64", "linux") { Variant = "v8" })!.Digest);
    }

    [Fact]
    public void Select_VariantWanted_OtherVariantRefused()
    {
        var index = Index((A, new("arm", "linux") { Variant = "v6" }));

        Assert.Null(PlatformSelection.Select(index, new("arm", "linux") { Variant = "v7" }));
        Assert.Equal(A, PlatformSelection.Select(index, new("arm", "linux"))!.Digest);
    }

    [Fact]
    public void Select_NoVariantWanted_PrefersTheEntryWithoutOne()
    {
        var index = Index((A, new("amd64", "linux") { Variant = "v3" }), (B, new("amd64", "linux")), (C, null));

        Assert.Equal(B, PlatformSelection.Select(index, PlatformSelection.LinuxAmd64)!.Digest);
    }

    [Fact]
    public void Select_PlatformMissing_NullAndAvailableNamesEveryPlatform()
    {
        var index = Index((A, new("amd64", "linux")), (B, new("arm64", "linux") { Variant = "v8" }), (C, null));

        Assert.Null(PlatformSelection.Select(index, new("s390x", "linux")));
        Assert.Null(PlatformSelection.Select(index, new("amd64", "windows")));
        Assert.Equal("linux/amd64, linux/arm64/v8, (an entry without a platform)", PlatformSelection.Available(index));
    }

    [Theory]
    [InlineData("linux/amd64", "amd64", null)]
    [InlineData("linux/arm64/v8", "arm64", "v8")]
    public void TryParse_OsArchitectureVariant_Parsed(string text, string architecture, string? variant)
    {
        Assert.True(PlatformSelection.TryParse(text, out var platform, out _));
        Assert.Equal(new Platform(architecture, "linux") { Variant = variant }, platform);
        Assert.Equal(text, platform!.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("amd64")]
    [InlineData("linux/")]
    [InlineData("Linux/AMD64")]
    [InlineData("linux/arm64/v8/extra")]
    public void TryParse_NotOsArchitecture_ErrorSaysHowToWriteIt(string text)
    {
        Assert.False(PlatformSelection.TryParse(text, out _, out var error));
        Assert.Contains("os/architecture[/variant]", error);
    }

    [Fact]
    public void ResolveManifest_TwoPlatformIndex_EachPlatformGetsItsOwnImage_AndAMissingOneIsNamed()
    {
        using var dir = new TempDir();
        var layout = OciLayout.OpenOrCreate(dir.Combine("oci"));
        var written = TestIndex.Write(layout, "multi:1", TestIndex.Amd64, TestIndex.Arm64);
        var tagged = layout.FindManifest("multi:1")!;

        var (amd64, _) = layout.ResolveManifest(tagged, TestIndex.Amd64);
        var (arm64, armImage) = layout.ResolveManifest(tagged, new Platform("arm64", "linux") { Variant = "v8" });
        var missing = Assert.Throws<OciFormatException>(() => layout.ResolveManifest(tagged, new Platform("s390x", "linux")));

        Assert.Equal(MediaTypes.ImageIndex, tagged.MediaType);
        Assert.Equal(written.For(TestIndex.Amd64).Manifest.Digest, amd64.Digest);
        Assert.Equal(written.For(TestIndex.Arm64).Manifest.Digest, arm64.Digest);
        Assert.Equal("arm64", layout.ReadConfig(armImage.Config.Digest).Architecture);
        Assert.Equal(written.Images[0].Image.Layers[0].Digest, armImage.Layers[0].Digest); // the shared layer is one blob
        Assert.Contains("no image for linux/s390x; it has: linux/amd64, linux/arm64", missing.Message);
    }

    [ToolFact("tar")]
    public void ImportInto_OciArchiveOfAnIndex_ChecksThePlatformAskedFor_AndLeavesAMissingOneToTheCaller()
    {
        using var dir = new TempDir();
        var source = OciLayout.OpenOrCreate(dir.Combine("src"));
        var written = TestIndex.Write(source, "multi:1", TestIndex.Arm64);
        Tools.Sh("tar -C src -cf oci.tar oci-layout index.json blobs", dir.Path);
        var target = OciLayout.OpenOrCreate(dir.Combine("dst"));

        ArchiveReader.ImportInto(dir.Combine("oci.tar"), target, "multi:1", TestIndex.Arm64, out var forArm);
        ArchiveReader.ImportInto(dir.Combine("oci.tar"), target, "multi:1", TestIndex.Amd64, out var forAmd);

        Assert.Equal(written.Index.Digest, forArm.Digest);
        Assert.Equal(written.Index.Digest, forAmd.Digest);
        Assert.Equal(written.For(TestIndex.Arm64).Manifest.Digest, target.ResolveManifest(forArm, TestIndex.Arm64).Descriptor.Digest);
        Assert.Null(PlatformSelection.Select(target.ReadImageIndex(forAmd.Digest), TestIndex.Amd64));
    }
}
