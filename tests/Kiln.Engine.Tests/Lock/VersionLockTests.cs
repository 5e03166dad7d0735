using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Lock;

namespace Kiln.Engine.Tests.Lock;

public sealed class VersionLockTests
{
    private const string Old = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private const string New = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    private const string Content = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

    private static KilnLock Locked(params (string Name, string Version, string Digest)[] versions) => new()
    {
        Servers = versions.GroupBy(v => v.Name).ToImmutableSortedDictionary(
            g => g.Key,
            g => g.ToImmutableSortedDictionary(v => v.Version, v => new LockedVersion(v.Digest, Content), StringComparer.Ordinal),
            StringComparer.Ordinal),
    };

    private static LockCandidate Built(string name, string version, string digest) => new(name, version, digest, Content);

    private const string Arm = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
    private const string ArmChanged = "sha256:5555555555555555555555555555555555555555555555555555555555555555";

    private static KilnLock LockedMulti() => Locked() with
    {
        Servers = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("multi", ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("1.0.0",
            new LockedVersion(Old, Content) { Platforms = new Dictionary<string, string> { ["linux/amd64"] = New, ["linux/arm64"] = Arm } })]))]),
    };

    private static LockCandidate Narrowed(string armDigest) => new("multi", "1.0.0", "sha256:" + new string('9', 64), Content)
    {
        Platforms = new Dictionary<string, string> { ["linux/arm64"] = armDigest },
        Partial = true,
    };

    [Fact]
    public void Apply_FullMultiPlatformBuild_RecordsIndexDigestAndEachPlatformsDigest()
    {
        var candidate = Built("multi", "1.0.0", Old) with { Platforms = new Dictionary<string, string> { ["linux/amd64"] = New, ["linux/arm64"] = Arm } };

        var result = VersionLock.Apply(KilnLock.Empty, [candidate], LockMode.Update, explicitUpdate: false, "kiln.lock.json");

        var entry = result.Lock.Servers["multi"]["1.0.0"];
        Assert.Equal(Old, entry.Digest);
        Assert.Equal(Arm, entry.Platforms!["linux/arm64"]);
    }

    [Fact]
    public void Apply_NarrowedBuildWithTheLockedPlatformDigest_LeavesTheLockUnchanged()
    {
        var current = LockedMulti();

        var result = VersionLock.Apply(current, [Narrowed(Arm)], LockMode.Enforce, explicitUpdate: false, "kiln.lock.json");

        Assert.Same(current.Servers["multi"]["1.0.0"], result.Lock.Servers["multi"]["1.0.0"]);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Apply_NarrowedBuildWithAChangedPlatformInEnforceMode_ThrowsKiln5023()
    {
        var e = Assert.Throws<KilnException>(() => VersionLock.Apply(LockedMulti(), [Narrowed(ArmChanged)], LockMode.Enforce, explicitUpdate: false, "kiln.lock.json"));

        var d = Assert.Single(e.Diagnostics);
        Assert.Equal(DiagnosticCodes.LockedPlatformChanged, d.Code);
        Assert.Contains("linux/arm64", d.Message, StringComparison.Ordinal);
        Assert.Contains(Arm, d.Message, StringComparison.Ordinal);
        Assert.Contains(ArmChanged, d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_NarrowedBuildWithAChangedPlatformInUpdateMode_WarnsAndRecordsNothing()
    {
        var current = LockedMulti();

        var result = VersionLock.Apply(current, [Narrowed(ArmChanged)], LockMode.Update, explicitUpdate: false, "kiln.lock.json");

        Assert.Equal(DiagnosticCodes.LockedPlatformChanged, Assert.Single(result.Warnings).Code);
        Assert.Equal(Arm, result.Lock.Servers["multi"]["1.0.0"].Platforms!["linux/arm64"]);
    }

    [Fact]
    public void Apply_ChangedDigestUnderLockedVersionInEnforceMode_ThrowsNamingServerVersionAndBothDigests()
    {
        var e = Assert.Throws<KilnException>(() => VersionLock.Apply(Locked(("api", "1.0.0", Old)), [Built("api", "1.0.0", New)], LockMode.Enforce, explicitUpdate: false, "kiln.lock.json"));

        var d = Assert.Single(e.Diagnostics);
        Assert.Equal("KILN5002", d.Code);
        Assert.Contains("api 1.0.0", d.Message, StringComparison.Ordinal);
        Assert.Contains(Old, d.Message, StringComparison.Ordinal);
        Assert.Contains(New, d.Message, StringComparison.Ordinal);
        Assert.Contains("Bump the version", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_ChangedDigestInUpdateMode_RecordsNewDigestWithWarning()
    {
        var result = VersionLock.Apply(Locked(("api", "1.0.0", Old)), [Built("api", "1.0.0", New)], LockMode.Update, explicitUpdate: false, "kiln.lock.json");

        Assert.Equal(New, result.Lock.Servers["api"]["1.0.0"].Digest);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("KILN5003", warning.Code);
        Assert.True(warning.IsWarning);
    }

    [Fact]
    public void Apply_ChangedDigestWithExplicitUpdateInEnforceMode_AcceptsWithoutDiagnostics()
    {
        var result = VersionLock.Apply(Locked(("api", "1.0.0", Old)), [Built("api", "1.0.0", New)], LockMode.Enforce, explicitUpdate: true, "kiln.lock.json");

        Assert.Equal(New, result.Lock.Servers["api"]["1.0.0"].Digest);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Apply_UnchangedRebuildInEnforceMode_LeavesLockEqual()
    {
        var before = Locked(("api", "1.0.0", Old));

        var result = VersionLock.Apply(before, [Built("api", "1.0.0", Old)], LockMode.Enforce, explicitUpdate: false, "kiln.lock.json");

        Assert.Empty(result.Warnings);
        Assert.Equal(before.Servers["api"]["1.0.0"], result.Lock.Servers["api"]["1.0.0"]);
    }

    [Fact]
    public void Apply_NewVersion_RecordsHighestLowerVersionAsParentWithItsDigest()
    {
        var before = Locked(("api", "1.0.0", Old), ("api", "1.10.0", New), ("api", "2.0.0", Content));

        var result = VersionLock.Apply(before, [Built("api", "1.11.0", "sha256:" + new string('4', 64))], LockMode.Enforce, explicitUpdate: false, "kiln.lock.json");

        Assert.Equal("1.10.0", result.Lock.Servers["api"]["1.11.0"].Parent);
        Assert.Equal(new Lineage("1.10.0", New), result.Lineage[("api", "1.11.0")]);
    }

    [Fact]
    public void Apply_FirstVersionOfServer_HasNoParent()
    {
        var result = VersionLock.Apply(KilnLock.Empty, [Built("api", "1.0.0", Old)], LockMode.Enforce, explicitUpdate: false, "kiln.lock.json");

        Assert.Null(result.Lock.Servers["api"]["1.0.0"].Parent);
        Assert.Equal(new Lineage(null, null), result.Lineage[("api", "1.0.0")]);
    }

    [Fact]
    public void Apply_TwoChangedServersInEnforceMode_ReportsBoth()
    {
        var before = Locked(("api", "1.0.0", Old), ("worker", "0.1.0", Old));

        var e = Assert.Throws<KilnException>(() => VersionLock.Apply(before, [Built("api", "1.0.0", New), Built("worker", "0.1.0", New)], LockMode.Enforce, false, "kiln.lock.json"));

        Assert.Equal(2, e.Diagnostics.Length);
    }

    [Theory]
    [InlineData(null, LockMode.Update)]
    [InlineData("update", LockMode.Update)]
    [InlineData("Enforce", LockMode.Enforce)]
    public void ParseMode_KnownValues_Parse(string? text, LockMode expected) => Assert.Equal(expected, VersionLock.ParseMode(text));

    [Fact]
    public void ParseMode_UnknownValue_ThrowsKiln5004() =>
        Assert.Equal("KILN5004", Assert.Throws<KilnException>(() => VersionLock.ParseMode("Strict")).Diagnostics[0].Code);

    [Theory]
    [InlineData("1.0.0", "1.0.1")]
    [InlineData("1.9.0", "1.10.0")]
    [InlineData("2.0.0-rc.1", "2.0.0")]
    [InlineData("2.0.0-alpha", "2.0.0-alpha.1")]
    [InlineData("2.0.0-alpha.2", "2.0.0-alpha.10")]
    [InlineData("2.0.0-2", "2.0.0-beta")]
    public void SemanticVersionComparer_OrdersBySemVerPrecedence(string lower, string higher)
    {
        Assert.True(SemanticVersionComparer.Instance.Compare(lower, higher) < 0);
        Assert.True(SemanticVersionComparer.Instance.Compare(higher, lower) > 0);
    }
}
