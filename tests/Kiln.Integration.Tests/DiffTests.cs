using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// kiln diff, query and history on two real versions of a fixture that differ in one setting and one file. (A package
/// change needs a Debian package base, which builds from the network; the package comparison is unit-tested.)
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class DiffTests(KilnPackage package)
{
    /// <summary>Fixtures build Debug; versions are locked for Release by default, so lock Debug here.</summary>
    private const string LockedDebug = "-p:KilnLockConfiguration=Debug";

    internal static string Spec(string version, int openFiles) => $$"""
        public sealed class Api : ServerSpec
        {
            public override string Name => "diff-api";
            public override string Version => "{{version}}";
            public override ImmutableArray<Layer> Layers => [Layer.File("app.conf", to: "/app/app.conf"), Layer.File("static.txt", to: "/app/static.txt")];
            public override Entrypoint Entrypoint => new("/app/run");
            public override Limits Limits => new() { OpenFiles = {{openFiles}} };
        }

        public sealed class Worker : ServerSpec
        {
            public override string Name => "diff-worker";
            public override string Version => "2.0.0";
            public override ImmutableArray<Layer> Layers => [Layer.File("static.txt", to: "/w/static.txt")];
            public override Entrypoint Entrypoint => new("/w/run");
            public override Limits Limits => new() { OpenFiles = 4096 };
        }
        """;

    /// <summary>Builds 1.0.0, keeps its artifacts as a release would be archived, then builds 1.1.0.</summary>
    private (FixtureProject Fixture, string Archived) TwoVersions()
    {
        var fixture = new FixtureProject(package).Specs(Spec("1.0.0", 1024)).Write("app.conf", "mode=a\n").Write("static.txt", "same\n");
        fixture.BuildOk(LockedDebug);
        var archived = Path.Combine(fixture.Directory, "releases", "1.0.0");
        foreach (var file in Directory.EnumerateFiles(fixture.OutputDirectory, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/oci/", StringComparison.Ordinal)))
        {
            var target = Path.Combine(archived, Path.GetRelativePath(fixture.OutputDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        fixture.Specs(Spec("1.1.0", 65536)).Write("app.conf", "mode=b\n");
        fixture.BuildOk(LockedDebug, "-p:KilnLockMode=Enforce");
        return (fixture, archived);
    }

    [Fact]
    public void Diff_TwoVersionsDifferingInOneSettingAndOneFile_ReportsExactlyThoseWithExitCode1()
    {
        var (fixture, archived) = TwoVersions();

        var result = KilnCli.Run(package, fixture.Directory, "diff", Path.Combine(archived, "manifests", "diff-api-1.0.0.json"), Path.Combine(fixture.OutputDirectory, "manifests", "diff-api-1.1.0.json"), "--json");

        Assert.True(result.ExitCode == 1, result.Output);
        var json = JsonDocument.Parse(result.Output).RootElement;
        var setting = Assert.Single(json.GetProperty("settings").EnumerateArray());
        Assert.Equal(("limits.openFiles", "1024", "65536"), (setting.GetProperty("setting").GetString(), setting.GetProperty("before").GetString(), setting.GetProperty("after").GetString()));
        var file = Assert.Single(json.GetProperty("files").EnumerateArray());
        Assert.Equal(("/app/app.conf", "modified", "content"), (file.GetProperty("path").GetString(), file.GetProperty("change").GetString(), string.Join(',', file.GetProperty("what").EnumerateArray().Select(w => w.GetString()))));
        Assert.Empty(json.GetProperty("packages").EnumerateArray());
    }

    [Fact]
    public void DiffQueryHistory_ReleasesOfTwoVersions_AgreeOnWhatChanged()
    {
        var (fixture, archived) = TwoVersions();
        var oldRelease = Path.Combine(archived, "release.json");

        var releases = KilnCli.Run(package, fixture.Directory, "diff", oldRelease, fixture.ReleasePath);
        Assert.True(releases.ExitCode == 1, releases.Output);
        Assert.Contains("limits.openFiles", releases.Output, StringComparison.Ordinal);

        var same = KilnCli.Run(package, fixture.Directory, "diff", "diff-worker:2.0.0", "diff-worker:2.0.0", "--artifacts", fixture.LayoutDirectory);
        Assert.True(same.ExitCode == 0, same.Output);

        var query = KilnCli.Run(package, fixture.Directory, "query", "limits.openFiles", oldRelease, fixture.ReleasePath, "--json");
        Assert.True(query.ExitCode == 0, query.Output);
        var rows = JsonDocument.Parse(query.Output).RootElement.EnumerateArray().Select(r => $"{r.GetProperty("name").GetString()}:{r.GetProperty("version").GetString()}={r.GetProperty("value").GetString()}");
        Assert.Equal(["diff-api:1.0.0=1024", "diff-api:1.1.0=65536", "diff-worker:2.0.0=4096"], rows);
        var table = KilnCli.Run(package, fixture.Directory, "query", "limits.openFiles", fixture.ReleasePath);
        Assert.Contains("65536", table.Output, StringComparison.Ordinal);

        var history = KilnCli.Run(package, fixture.Directory, "history", "diff-api", "--project", fixture.Directory, "--manifests", archived, "--json");
        Assert.True(history.ExitCode == 0, history.Output);
        var versions = JsonDocument.Parse(history.Output).RootElement.EnumerateArray().ToList();
        Assert.Equal(["1.0.0", "1.1.0"], versions.Select(v => v.GetProperty("version").GetString()));
        Assert.Equal("1.0.0", versions[1].GetProperty("parent").GetString());
        Assert.Equal("settings: limits.openFiles; files: 0 added, 0 removed, 1 modified", versions[1].GetProperty("changes").GetString());
    }

    [Fact]
    public void DiffAndQuery_BadInputs_ClearErrors()
    {
        var fixture = new FixtureProject(package).Specs(Spec("1.0.0", 1024)).Write("app.conf", "mode=a\n").Write("static.txt", "same\n");
        fixture.BuildOk(LockedDebug);
        var manifest = Path.Combine(fixture.OutputDirectory, "manifests", "diff-api-1.0.0.json");

        var notKiln = KilnCli.Run(package, fixture.Directory, "diff", Path.Combine(fixture.LayoutDirectory, "index.json"), manifest);
        Assert.Equal(16, notKiln.ExitCode);
        Assert.Contains("error KILN2070", notKiln.Output, StringComparison.Ordinal);

        var missing = KilnCli.Run(package, fixture.Directory, "diff", "diff-api:9.9.9", manifest, "--artifacts", fixture.OutputDirectory);
        Assert.Equal(16, missing.ExitCode);
        Assert.Contains("error KILN2073", missing.Output, StringComparison.Ordinal);

        var setting = KilnCli.Run(package, fixture.Directory, "query", "limits.noSuchLimit", fixture.ReleasePath);
        Assert.NotEqual(0, setting.ExitCode);
        Assert.Contains("error KILN2074", setting.Output, StringComparison.Ordinal);
    }
}
