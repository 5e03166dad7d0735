using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>kiln.lock.json: a released version can never mean two things (DESIGN.md, "Versions and the lock").</summary>
[Collection(KilnCollection.Name)]
public sealed class LockTests(KilnPackage package)
{
    /// <summary>Fixtures build Debug; versions are locked for Release by default, so lock Debug here.</summary>
    private const string LockedDebug = "-p:KilnLockConfiguration=Debug";

    private static string Spec(string version) => $$"""
        public sealed class Api : ServerSpec
        {
            public override string Name => "locked-api";
            public override string Version => "{{version}}";
            public override ImmutableArray<Layer> Layers => [Layer.File("app.conf", to: "/app/app.conf")];
            public override Entrypoint Entrypoint => new("/app/run");
        }
        """;

    private FixtureProject Fixture() => new FixtureProject(package).Specs(Spec("1.0.0")).Write("app.conf", "limit=1\n");

    private static JsonElement LockedVersion(FixtureProject fixture, string version)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json")));
        return document.RootElement.GetProperty("servers").GetProperty("locked-api").GetProperty(version).Clone();
    }

    [Fact]
    public void Build_ChangedInputUnderSameVersionInEnforceMode_FailsNamingDigestsAndPassesAfterVersionBump()
    {
        var fixture = Fixture();
        fixture.BuildOk(LockedDebug);
        var locked = fixture.ReadRelease().Digests["locked-api:1.0.0"];
        var releaseBefore = File.ReadAllText(fixture.ReleasePath);
        var manifestBefore = File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "locked-api-1.0.0.json"));
        Assert.Equal(locked, LockedVersion(fixture, "1.0.0").GetProperty("digest").GetString());

        fixture.Write("app.conf", "limit=2\n");
        var failed = fixture.Build(LockedDebug, "-p:KilnLockMode=Enforce");

        Assert.NotEqual(0, failed.ExitCode);
        var error = failed.Output.Split('\n').First(l => l.Contains("error KILN5002", StringComparison.Ordinal));
        Assert.Contains("locked-api 1.0.0", error, StringComparison.Ordinal);
        Assert.Contains(locked, error, StringComparison.Ordinal);
        Assert.Matches("produced sha256:[0-9a-f]{64}", error);
        Assert.Contains("Bump the version", error, StringComparison.Ordinal);
        // Nothing that names an image was written: the previous artifacts and the lock stay as they were.
        Assert.Equal(releaseBefore, File.ReadAllText(fixture.ReleasePath));
        Assert.Equal(manifestBefore, File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "locked-api-1.0.0.json")));
        Assert.Equal(locked, LockedVersion(fixture, "1.0.0").GetProperty("digest").GetString());

        fixture.Specs(Spec("1.0.1"));
        fixture.BuildOk(LockedDebug, "-p:KilnLockMode=Enforce");

        var bumped = LockedVersion(fixture, "1.0.1");
        Assert.Equal(fixture.ReadRelease().Digests["locked-api:1.0.1"], bumped.GetProperty("digest").GetString());
        Assert.Equal("1.0.0", bumped.GetProperty("parent").GetString());
        Assert.Equal(locked, LockedVersion(fixture, "1.0.0").GetProperty("digest").GetString());
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", "locked-api-1.0.1.json")));
        var lineage = manifest.RootElement.GetProperty("lineage");
        Assert.Equal("1.0.0", lineage.GetProperty("parentVersion").GetString());
        Assert.Equal(locked, lineage.GetProperty("parentDigest").GetString());
    }

    [Fact]
    public void Build_UnchangedRebuildInEnforceMode_Passes()
    {
        var fixture = Fixture();
        fixture.BuildOk(LockedDebug);
        var lockBefore = File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json"));

        var result = fixture.BuildOk(LockedDebug, "-p:KilnLockMode=Enforce");

        Assert.Contains("locked-api:1.0.0 ->", result.Output, StringComparison.Ordinal); // the engine ran and checked
        Assert.DoesNotContain("KILN50", result.Output, StringComparison.Ordinal);
        Assert.Equal(lockBefore, File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json")));
    }

    [Fact]
    public void Build_ChangedInputInUpdateMode_WarnsAndRecordsTheNewDigest()
    {
        var fixture = Fixture();
        fixture.BuildOk(LockedDebug);
        fixture.Write("app.conf", "limit=3\n");

        var result = fixture.BuildOk(LockedDebug);

        Assert.Contains("warning KILN5003", result.Output, StringComparison.Ordinal);
        Assert.Equal(fixture.ReadRelease().Digests["locked-api:1.0.0"], LockedVersion(fixture, "1.0.0").GetProperty("digest").GetString());
    }

    [Fact]
    public void Build_ContinuousIntegrationBuild_EnforcesByDefault()
    {
        var fixture = Fixture();
        fixture.BuildOk(LockedDebug);
        fixture.Write("app.conf", "limit=4\n");

        var result = fixture.Build(LockedDebug, "-p:ContinuousIntegrationBuild=true");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("error KILN5002", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DebugConfigurationByDefault_NeitherChecksNorRecordsVersions()
    {
        var fixture = Fixture();
        fixture.BuildOk(LockedDebug);
        var locked = File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json"));
        fixture.Write("app.conf", "limit=6\n");

        // Without LockedDebug the lock configuration is Release: a Debug build is never released, so it is not locked.
        var result = fixture.BuildOk();

        Assert.DoesNotContain("KILN5003", result.Output, StringComparison.Ordinal);
        Assert.Equal(locked, File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json")));
    }

    [Fact]
    public void LockUpdate_ExplicitAct_AcceptsChangedContentSoEnforceThenPasses()
    {
        var fixture = Fixture();
        fixture.BuildOk(LockedDebug);
        fixture.Write("app.conf", "limit=5\n");

        var update = KilnCli.Run(package, fixture.Directory, "lock", "--update", fixture.Directory, "-c", "Debug");

        Assert.True(update.ExitCode == 0, update.Output);
        Assert.DoesNotContain("KILN5003", update.Output, StringComparison.Ordinal);
        Assert.Equal(fixture.ReadRelease().Digests["locked-api:1.0.0"], LockedVersion(fixture, "1.0.0").GetProperty("digest").GetString());
        fixture.BuildOk(LockedDebug, "-p:KilnLockMode=Enforce");
    }
}
