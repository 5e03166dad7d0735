using Kiln.Engine.Manifests;

namespace Kiln.Engine.Tests;

/// <summary>
/// The defaults live in KilnDefaults; Kiln.Build.targets cannot reference the engine, so it is held to them here.
/// </summary>
public sealed class KilnDefaultsTests
{
    private static string Targets()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory!.FullName, "Tooling.sln")))
        {
            directory = directory.Parent;
        }

        return File.ReadAllText(Path.Combine(directory.FullName, "src", "Kiln.Build.Tasks", "build", "Kiln.Build.targets"));
    }

    [Fact]
    public void DebianKeyring_IsTheOneKilnBuildTargetsDefaultsTo() =>
        Assert.Contains($">{KilnDefaults.DebianKeyring}</KilnDebianKeyring>", Targets(), StringComparison.Ordinal);

    [Fact]
    public void ReleasePath_Configuration_IsUnderBinConfigurationKiln() =>
        Assert.Equal(Path.Combine("bin", "Release", "kiln", Release.FileName), KilnDefaults.ReleasePath("Release"));

    [Theory]
    [InlineData("/cache/kiln", "/home/dev", "/cache/kiln")]
    [InlineData("", "/home/dev", "/home/dev/.cache/kiln")]
    [InlineData(null, "/home/dev", "/home/dev/.cache/kiln")]
    public void CacheDirectory_KilnCacheOrUserProfile_IsTheSharedCache(string? kilnCache, string profile, string expected) =>
        Assert.Equal(expected, KilnDefaults.CacheDirectory(kilnCache, profile));
}
