using System.Diagnostics;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// A build killed with SIGKILL at any point of the image step leaves the layout valid (old index, at worst
/// unreferenced blobs and stray temp files), and the next build succeeds.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class CrashTests(KilnPackage package)
{
    /// <summary>Kill points after the engine process appears: spread over evaluation, planning, layer writes and
    /// the final config/manifest/index writes of the 160 MB image.</summary>
    private static readonly TimeSpan[] KillPoints = [TimeSpan.Zero, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)];

    [SkippableFact]
    public void Build_KilledWhileWritingABlobAndAtManyPoints_LayoutStaysValidAndNextBuildSucceeds()
    {
        var validator = Tools.Require("oci-image-tool", "oci-image-tool");
        var fixture = BuildTests.TwoServerFixture(package).WithoutEngineServer();
        fixture.BuildOk();

        // A large, poorly compressible input keeps the engine writing one blob long enough to be caught mid-write.
        var data = new byte[160 * 1024 * 1024];
        new Random(42).NextBytes(data);
        fixture.WriteBytes("www/big.bin", data);
        var temps = Path.Combine(fixture.LayoutDirectory, ".kiln-tmp");

        // 1. Killed while a blob is being written: the partial temp blob is the proof.
        var partial = KillWhen(fixture, () => GrowingTempBlob(temps));
        Assert.True(partial.Killed, "the engine was never caught writing a blob");
        var (tempPath, sizeAtKill) = partial.Evidence!.Value;
        Assert.True(sizeAtKill > 0, "the temp blob was empty when the engine was killed");
        Assert.True(File.Exists(tempPath), $"the partially written temp blob {tempPath} is gone: the engine was not killed mid-write");
        Assert.False(File.Exists(Path.Combine(fixture.LayoutDirectory, "blobs", "sha256", Path.GetFileName(tempPath))), "a temp blob must never be renamed into blobs/ half-written");
        AssertLayoutValid(fixture, validator, "after the kill mid-blob");

        // 2. Killed at many other points of the image step.
        foreach (var point in KillPoints)
        {
            var watch = Stopwatch.StartNew();
            var outcome = KillWhen(fixture, () => watch.Elapsed >= point ? (temps, 0) : null, startClock: watch);
            AssertLayoutValid(fixture, validator, $"after a kill {point.TotalMilliseconds} ms into the engine (killed: {outcome.Killed})");
        }

        // 3. The next build succeeds and finds everything.
        fixture.BuildOk();
        AssertLayoutValid(fixture, validator, "after the next build");
        Assert.Contains("/srv/www/big.bin", File.ReadAllText(Path.Combine(fixture.OutputDirectory, "inventory", "fixture-api-1.2.3.txt")), StringComparison.Ordinal);
    }

    private sealed record KillOutcome(bool Killed, (string Path, long Size)? Evidence);

    /// <summary>Starts a build and kills its engine process (SIGKILL) as soon as <paramref name="when"/> returns evidence.</summary>
    private static KillOutcome KillWhen(FixtureProject fixture, Func<(string Path, long Size)?> when, Stopwatch? startClock = null)
    {
        // The engine killed is the build's own process (the engine server's crash is EngineServerTests').
        var env = new Dictionary<string, string?> { ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0", ["KilnEngineServer"] = "false" };
        File.Delete(Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "images.stamp"));
        using var build = ProcessRunner.Start("dotnet", ["build", fixture.Directory, "-nologo", "-nodeReuse:false"], fixture.Directory, env, out _);
        KillOutcome outcome = new(false, null);
        var deadline = Stopwatch.StartNew();
        var engineSeen = false;
        while (!build.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(4))
        {
            if (EngineProcess(fixture.Directory) is { } engine)
            {
                if (!engineSeen)
                {
                    engineSeen = true;
                    startClock?.Restart();
                }

                if (when() is { } evidence)
                {
                    // Process.Kill is SIGKILL on Unix: no handler, no cleanup, exactly a crash.
                    engine.Kill();
                    engine.WaitForExit();
                    outcome = new KillOutcome(true, evidence);
                    break;
                }
            }

            Thread.Sleep(2);
        }

        build.WaitForExit();
        if (outcome.Killed)
        {
            Assert.NotEqual(0, build.ExitCode);
        }

        return outcome;
    }

    /// <summary>A temp blob with bytes in it, as the engine is writing it.</summary>
    private static (string Path, long Size)? GrowingTempBlob(string temps)
    {
        if (!Directory.Exists(temps))
        {
            return null;
        }

        foreach (var file in Directory.EnumerateFiles(temps, "blob-*"))
        {
            try
            {
                var length = new FileInfo(file).Length;
                if (length > 1024 * 1024)
                {
                    return (file, length);
                }
            }
            catch (IOException)
            {
                // renamed or deleted while we looked
            }
        }

        return null;
    }

    private void AssertLayoutValid(FixtureProject fixture, string validator, string when)
    {
        var validate = ProcessRunner.Run(validator, ["validate", "--type", "image", fixture.LayoutDirectory]);
        Assert.True(validate.ExitCode == 0, $"oci-image-tool {when}:\n{validate.Output}");
        var fsck = KilnCli.Run(package, fixture.Directory, "fsck", fixture.LayoutDirectory);
        Assert.True(fsck.ExitCode == 0, $"kiln fsck {when}:\n{fsck.Output}");
    }

    /// <summary>The `kiln.dll engine build` process working on this fixture, found through /proc.</summary>
    private static Process? EngineProcess(string fixtureDirectory)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains("kiln.dll", StringComparison.Ordinal) && commandLine.Contains(" engine build", StringComparison.Ordinal) && commandLine.Contains(fixtureDirectory, StringComparison.Ordinal))
                {
                    return Process.GetProcessById(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                // the process ended while we looked
            }
        }

        return null;
    }
}
