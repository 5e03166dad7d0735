using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Kiln.Shared;
using Xunit;

namespace Kiln.Integration.Tests;

[Collection(KilnCollection.Name)]
public sealed class IncrementalTests(KilnPackage package)
{
    private static string[] LayerDigests(FixtureProject fixture, string image) =>
        [.. JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.OutputDirectory, "manifests", image + ".json"))).RootElement
            .GetProperty("content").GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)];

    [Fact]
    public void Build_NothingChanged_SecondBuildDoesNoImageWork()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var releaseTime = File.GetLastWriteTimeUtc(fixture.ReleasePath);

        var second = fixture.BuildOk();

        Assert.Contains("Skipping target \"KilnEvaluateSpecs\" because all output files are up-to-date", second.Output, StringComparison.Ordinal);
        Assert.Contains("Skipping target \"_KilnPrepareImageBuild\" because all output files are up-to-date", second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("kiln: wrote", second.Output, StringComparison.Ordinal);
        Assert.Equal(releaseTime, File.GetLastWriteTimeUtc(fixture.ReleasePath));
    }

    [Fact]
    public void Build_SettingChanged_ReRunsTheEngineOnceAndTheStampRecordsIt()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        var stamp = Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "settings.txt");
        fixture.BuildOk();
        var digests = fixture.ReadRelease().Digests;

        var changed = fixture.BuildOk("-p:KilnSourceDateEpoch=1700000000");
        var stampTime = File.GetLastWriteTimeUtc(stamp);
        var same = fixture.BuildOk("-p:KilnSourceDateEpoch=1700000000");

        Assert.DoesNotContain("Skipping target \"_KilnBuildImagesCore\"", changed.Output, StringComparison.Ordinal);
        Assert.NotEqual(digests, fixture.ReadRelease().Digests);
        var settings = KilnBuildSettings.Parse(File.ReadAllText(stamp));
        Assert.Equal("1700000000", settings.Epoch);
        Assert.Equal("Debug", settings.Configuration);
        Assert.Equal("", settings.UpdateLock);
        Assert.Contains("Skipping target \"_KilnPrepareImageBuild\" because all output files are up-to-date", same.Output, StringComparison.Ordinal);
        Assert.Equal(stampTime, File.GetLastWriteTimeUtc(stamp));
    }

    [Fact]
    public void Build_UpdateLockTwice_ReRunsTheEngineEachTime()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        var stamp = Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "settings.txt");
        fixture.BuildOk();

        var first = fixture.BuildOk("-p:KilnUpdateLock=true");
        var nonce = KilnBuildSettings.Parse(File.ReadAllText(stamp)).UpdateLock;
        var second = fixture.BuildOk("-p:KilnUpdateLock=true");

        Assert.DoesNotContain("Skipping target \"_KilnBuildImagesCore\"", first.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Skipping target \"_KilnBuildImagesCore\"", second.Output, StringComparison.Ordinal);
        Assert.True(Guid.TryParseExact(nonce, "D", out _), nonce);
        Assert.NotEqual(nonce, KilnBuildSettings.Parse(File.ReadAllText(stamp)).UpdateLock);
    }

    [Fact]
    public void Build_ArtifactsDeletedByHand_AreBuiltAgain()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var digests = fixture.ReadRelease().Digests;

        Directory.Delete(fixture.OutputDirectory, recursive: true);
        fixture.BuildOk();

        Assert.Equal(digests, fixture.ReadRelease().Digests);
    }

    [Fact]
    public void Build_OneInputFileEdited_RebuildsOnlyThatLayer()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var before = LayerDigests(fixture, "fixture-api-1.2.3");
        var workerBefore = fixture.ReadRelease().Digests["fixture-worker:0.9.0"];

        fixture.Write("files/settings.json", "{ \"mode\": \"staging\" }\n");
        var rebuild = fixture.BuildOk();

        var after = LayerDigests(fixture, "fixture-api-1.2.3");
        Assert.Equal(before[0], after[0]);
        Assert.NotEqual(before[1], after[1]);
        Assert.Equal(before[2], after[2]);
        Assert.Single(rebuild.Output.Split('\n'), l => l.Contains("kiln: wrote", StringComparison.Ordinal));
        Assert.Contains("file:files/settings.json", rebuild.Output.Split('\n').Single(l => l.Contains("kiln: wrote", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(workerBefore, fixture.ReadRelease().Digests["fixture-worker:0.9.0"]);
    }

    [Fact]
    public void Build_FileAddedToDirectoryLayer_RebuildsAndInventoriesIt()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();

        fixture.Write("www/added.html", "<p>new</p>\n");
        fixture.BuildOk();

        var inventory = File.ReadAllText(Path.Combine(fixture.OutputDirectory, "inventory", "fixture-api-1.2.3.txt"));
        Assert.Contains("/srv/www/added.html\tf\t0644", inventory, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SpecEditedWithinOneBuildServerSession_UsesNewSpecAndLocksNothing()
    {
        var fixture = BuildTests.TwoServerFixture(package);
        var server = new Dictionary<string, string?> { ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "1", ["MSBUILDDISABLENODEREUSE"] = null };
        try
        {
            var first = fixture.Build(server, "-nodeReuse:true");
            Assert.True(first.ExitCode == 0, first.Output);
            var before = fixture.ReadRelease().Digests["fixture-api:1.2.3"];

            fixture.Specs(BuildTests.TwoServers.Replace("new(\"MODE\", \"production\")", "new(\"MODE\", \"canary\")", StringComparison.Ordinal));
            var second = fixture.Build(server, "-nodeReuse:true");
            Assert.True(second.ExitCode == 0, second.Output);

            var after = fixture.ReadRelease().Digests["fixture-api:1.2.3"];
            Assert.NotEqual(before, after);
            var layout = Kiln.Oci.OciLayout.Open(fixture.LayoutDirectory);
            var config = layout.ReadConfig(layout.ReadManifest(Kiln.Oci.Digest.Parse(after)).Config.Digest);
            Assert.Contains("MODE=canary", config.Config.Env);

            // The build server and its nodes are still running: none of them may hold a file of the project open.
            Assert.Empty(OpenFilesUnder(fixture.Directory));
        }
        finally
        {
            ProcessRunner.Run("dotnet", ["build-server", "shutdown", "--msbuild"], fixture.Directory);
        }
    }

    /// <summary>Every open file descriptor, in any process, that points under <paramref name="directory"/>.</summary>
    private static List<string> OpenFilesUnder(string directory)
    {
        var open = new List<string>();
        foreach (var fdDirectory in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)).Select(d => Path.Combine(d, "fd")))
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(fdDirectory))
                {
                    var target = new FileInfo(fd).LinkTarget;
                    if (target is not null && target.StartsWith(directory, StringComparison.Ordinal))
                    {
                        open.Add($"{fdDirectory}: {target}");
                    }
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // processes come and go while we look
            }
        }

        return open;
    }
}
