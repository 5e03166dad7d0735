using Kiln.Spec;

namespace Kiln.Engine.Tests.Evaluation;

/// <summary>Kiln.Spec.Platform: the text form every tool uses, and the runtime and Debian names derived from it.</summary>
public sealed class PlatformTests
{
    [Theory]
    [InlineData("linux/amd64", "linux-x64", "amd64")]
    [InlineData("linux/arm64", "linux-arm64", "arm64")]
    public void Parse_SupportedPlatform_RoundTripsAndNamesItsRuntimes(string text, string rid, string debian)
    {
        var platform = Platform.Parse(text);

        Assert.Equal(text, platform.ToString());
        Assert.Equal(rid, platform.RuntimeIdentifier);
        Assert.Equal(debian, platform.DebianArchitecture);
        Assert.True(platform.IsSupported);
        Assert.Contains(platform, Platform.Supported);
    }

    [Fact]
    public void Parse_Variant_IsKeptButUnsupported()
    {
        var platform = Platform.Parse("linux/arm64/v8");

        Assert.Equal("v8", platform.Variant);
        Assert.Equal("linux/arm64/v8", platform.ToString());
        Assert.False(platform.IsSupported);
        Assert.NotEqual(Platform.LinuxArm64, platform);
    }

    [Theory]
    [InlineData("arm64")]
    [InlineData("linux-arm64")]
    [InlineData("linux/")]
    [InlineData("Linux/ARM64")]
    [InlineData("a/b/c/d")]
    [InlineData("")]
    public void TryParse_NotOsSlashArch_ReturnsFalse(string text)
    {
        Assert.False(Platform.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Platform.Parse(text));
    }
}
