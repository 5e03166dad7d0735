using Kiln.Engine.Manifests;

namespace Kiln.Engine.Tests;

/// <summary>
/// The defaults live in KilnDefaults; Kiln.Build.targets cannot reference the engine, so it is held to them here.
/// </summary>
public sealed class KilnDefaultsTests
{
    private static string Targets()
    {
        return File.ReadAllText(Path.Combine(Repo.Root, "src", "Kiln.Build.Tasks", "build", "Kiln.Build.targets"));
    }

    [Fact]
    public void DebianKeyring_IsTheOneKilnBuildTargetsDefaultsTo()
    {
        Assert.Contains($">{KilnDefaults.DebianKeyring}</_KilnSystemDebianKeyring>", Targets(), StringComparison.Ordinal);
        Assert.Contains($">{KilnDefaults.BuiltInDebianKeyring}</KilnDebianKeyring>", Targets(), StringComparison.Ordinal);
    }

    [Fact]
    public void Timeouts_AreTheOnesKilnBuildTargetsDefaultsTo()
    {
        Assert.Contains($"<KilnEvaluationTimeout Condition=\"'$(KilnEvaluationTimeout)' == ''\">{KilnDefaults.EvaluationTimeoutSeconds}</KilnEvaluationTimeout>", Targets(), StringComparison.Ordinal);
        Assert.Contains($"<KilnBuildLockTimeout Condition=\"'$(KilnBuildLockTimeout)' == ''\">{KilnDefaults.BuildLockTimeoutSeconds}</KilnBuildLockTimeout>", Targets(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/keys/mine.gpg", true, "/keys/mine.gpg")]
    [InlineData("/keys/mine.gpg", false, "/keys/mine.gpg")]
    [InlineData(null, true, KilnDefaults.DebianKeyring)]
    [InlineData("", false, KilnDefaults.BuiltInDebianKeyring)]
    public void ResolveDebianKeyring_ConfiguredOrSystemOrBuiltIn_TakesTheFirstThatApplies(string? configured, bool systemKeyringInstalled, string expected) =>
        Assert.Equal(expected, KilnDefaults.ResolveDebianKeyring(configured, path => systemKeyringInstalled && path == KilnDefaults.DebianKeyring));

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
