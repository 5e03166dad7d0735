using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// kiln diff between two versions on a Debian package base (from the mirror this machine's apt uses) that differ in
/// one package, one setting and one file: exactly those are reported, the added package's own files included.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class PackageDiffTests(KilnPackage package)
{
    private static string Spec(string version, string packages, int openFiles) => $$"""
        public sealed class PkgApi : ServerSpec
        {
            public override string Name => "pkg-api";
            public override string Version => "{{version}}";
            public override BaseImage Base => BaseImage.Debian("bookworm", [{{packages}}]);
            public override ImmutableArray<Layer> Layers => [Layer.File("app.conf", to: "/app/app.conf")];
            public override Entrypoint Entrypoint => new("/app/run");
            public override Limits Limits => new() { OpenFiles = {{openFiles}} };
        }
        """;

    [Fact]
    public void Diff_VersionsDifferingInOnePackageOneSettingOneFile_ReportsExactlyThose()
    {
        var cache = $"-p:KilnCacheDirectory={ShopSample.CacheDirectory(package)}";
        var fixture = new FixtureProject(package).Specs(Spec("1.0.0", "\"libgcc-s1\"", 1024)).Write("app.conf", "mode=a\n");
        fixture.BuildOk(cache);
        // Archive 1.0.0's manifest and inventory as a release would be kept (manifests/ beside inventory/).
        var archive = Path.Combine(fixture.Directory, "releases", "1.0.0");
        var before = Path.Combine(archive, "manifests", "pkg-api-1.0.0.json");
        foreach (var file in new[] { "manifests/pkg-api-1.0.0.json", "inventory/pkg-api-1.0.0.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(archive, file))!);
            File.Copy(Path.Combine(fixture.OutputDirectory, file), Path.Combine(archive, file));
        }

        fixture.Specs(Spec("1.1.0", "\"libgcc-s1\", \"netbase\"", 65536)).Write("app.conf", "mode=b\n");
        fixture.BuildOk(cache);

        var result = KilnCli.Run(package, fixture.Directory, "diff", before, Path.Combine(fixture.OutputDirectory, "manifests", "pkg-api-1.1.0.json"), "--json");

        Assert.True(result.ExitCode == 1, result.Output);
        var json = JsonDocument.Parse(result.Output).RootElement;
        // The one setting, and the base's digest, which the added package changes.
        Assert.Equal(["base.digest", "limits.openFiles"], json.GetProperty("settings").EnumerateArray().Select(s => s.GetProperty("setting").GetString()).Order(StringComparer.Ordinal));
        var added = Assert.Single(json.GetProperty("packages").EnumerateArray());
        Assert.Equal(("netbase", "added"), (added.GetProperty("package").GetString(), added.GetProperty("change").GetString()));

        var files = json.GetProperty("files").EnumerateArray()
            .Select(f => (Path: f.GetProperty("path").GetString()!, Change: f.GetProperty("change").GetString()!))
            .ToList();
        Assert.Equal(["/app/app.conf"], files.Where(f => f.Change == "modified").Select(f => f.Path));
        Assert.DoesNotContain(files, f => f.Change == "removed");
        // Every added file is netbase's: its dpkg status entry, its configuration files and its documentation.
        var addedFiles = files.Where(f => f.Change == "added").Select(f => f.Path).ToList();
        Assert.Contains("/var/lib/dpkg/status.d/netbase", addedFiles);
        Assert.Contains("/etc/services", addedFiles);
        Assert.All(addedFiles, path => Assert.True(
            path == "/var/lib/dpkg/status.d/netbase" || path.StartsWith("/etc/", StringComparison.Ordinal) || path.Contains("/netbase", StringComparison.Ordinal),
            $"{path} is not netbase's"));
    }
}
